"""Collection definitions and the plan/apply engine (built in the collections issue)."""
