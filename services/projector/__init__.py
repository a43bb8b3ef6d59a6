"""The projector process: the runner that folds the log into a projection, and its app."""
