"""The command-line interface: parse, call one client method, render."""
