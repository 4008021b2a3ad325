"""The parent process: listeners, children, signals, relaying (issue 3).

So far: listeners.py binds the sockets the workers will accept on.
"""
