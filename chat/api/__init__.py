"""The REST door: handlers, route table and middlewares."""
