#!/usr/bin/env python3
"""TCP proxy that adds a one-way delay in each direction (RTT/2), without limiting throughput:
every chunk is forwarded `delay` seconds after it arrived, in order, so the pipe stays full.
  delay_proxy.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT ONE_WAY_DELAY_MS"""
import asyncio
import sys

listen_host, listen_port, target_host, target_port, delay_ms = sys.argv[1:6]
DELAY = float(delay_ms) / 1000.0


async def pipe(reader, writer):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def pump():
        # A reset ends the stream like EOF does: the writer side must not wait for data forever.
        try:
            while True:
                data = await reader.read(1 << 16)
                if not data:
                    break
                await queue.put((loop.time() + DELAY, data))
        except (ConnectionError, OSError):
            pass
        await queue.put((loop.time() + DELAY, b""))

    task = asyncio.ensure_future(pump())
    try:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        task.cancel()
        try:
            writer.close()
        except OSError:
            pass


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection(target_host, int(target_port))
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    server = await asyncio.start_server(handle, listen_host, int(listen_port))
    async with server:
        await server.serve_forever()


asyncio.run(main())
