"""The thread view: the comment tree of each thread, rendered and ready to serve."""
