"""Per-project schedules: cron expressions that fire built-in actions, once per tick."""
