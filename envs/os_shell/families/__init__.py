"""The seeded families of OS tasks, by topic; ``envs.os_shell.generator`` picks one per task index."""
