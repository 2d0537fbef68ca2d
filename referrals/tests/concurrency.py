"""Run the same call from several threads at once, each with its own database connection."""

import threading

from django.db import connection


def run_at_once(target, args_list) -> list[Exception | None]:
    """Call ``target(*args)`` for every ``args`` in its own thread, all released together.

    Returns, in order, what each call raised (None when it returned). Needs
    ``django_db(transaction=True)``: the threads see only committed rows.
    """
    barrier = threading.Barrier(len(args_list))
    results: list[Exception | None] = [None] * len(args_list)

    def run(index, args):
        try:
            barrier.wait(timeout=10)
            target(*args)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, args)) for i, args in enumerate(args_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
