"""Every Redis adapter: connection, key names, Lua scripts, the event store, the log reader, the
author key vault and unsealing, read-model commits, dead letters, liveness and deployment marks."""
