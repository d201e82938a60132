"""One router per domain; each route parses, calls one service, renders."""
