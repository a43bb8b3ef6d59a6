"""The command processor: reads `cs:{p}:commands`, decides, appends, answers."""
