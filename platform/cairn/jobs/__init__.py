"""RQ queues, outbox, webhooks, mailer and cron (built in the jobs issue)."""
