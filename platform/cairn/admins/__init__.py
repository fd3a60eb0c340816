"""Platform admins: the people who sign in to the admin UI. Not tenant data: an admin belongs
to the instance, not to a project, so these tables carry no project_id and no RLS policy."""
