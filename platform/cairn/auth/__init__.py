"""Credentials and principals: API keys now; users, sessions and OAuth later."""
