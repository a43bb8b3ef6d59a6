"""Imports from the platforms people leave: WordPress (WXR) and Disqus exports."""
