"""Long-running jobs on the server (issue 10): the Job table, the embedded process backend
(`phloem run`), the Celery backend (`phloem worker`), and the reaper that keeps the table
truthful after a crash."""
