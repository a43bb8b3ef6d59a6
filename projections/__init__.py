"""The read models: pure folds of the log and, for each, the one reader everyone reads it with."""
