-- PostgreSQL only (fillfactor); SQLite keeps the numbering in step.
SELECT 1;
