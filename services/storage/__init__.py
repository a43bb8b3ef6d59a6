"""Redis adapters: key names, Lua scripts, the event store and the author key vault."""
