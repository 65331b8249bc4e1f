"""The SQLite snapshot: schema and upgrades, the store, derived tables, instants, the lock."""
