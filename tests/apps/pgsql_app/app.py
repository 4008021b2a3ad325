# Queries through a database set up in the parent.
import json
import os

import kore


class KoreApp:
    def __init__(self):
        self.configured_in = None

    def configure(self, args):
        kore.dbsetup("db", os.environ.get("APP_DATABASE", "host=/tmp dbname=test"))
        self.configured_in = "parent" if kore.worker() is None else "worker"

    def hello(self, req):
        req.response(200, b"hello\n")

    async def query(self, req):
        result = await kore.dbquery("db", f"SELECT 'coder' AS name, {kore.worker()} AS worker")
        req.response(200, json.dumps(result).encode("utf-8"))

    async def slow(self, req):
        result = await kore.dbquery("db", "SELECT * FROM pg_sleep(0.2)")
        req.response(200, json.dumps([result, self.configured_in]).encode("utf-8"))


koreapp = KoreApp()
