"""The database side of a running turn: its start (starts), what it writes while it runs
and as it ends (running), and the statements both run most, built once (sql)."""
