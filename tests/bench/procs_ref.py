#!/usr/bin/env python3
"""procs_ref.py -- the Python side of `parlab bench procs`.

Measures, with the standard library only, what bench_procs.c measures with
engine.procs, and prints one JSON document of raw samples (seconds) on
stdout:

  start       multiprocessing.Pool(workers) until its first apply() returns
  latency     round trip of Pool.apply(tiny, (i,)), one task at a time
  cf_latency  round trip of ProcessPoolExecutor.submit(tiny, i).result()
  map         Pool.map(tiny, range(map_n), chunksize=1)
  cf_map      ProcessPoolExecutor.map(tiny, range(cf_map_n), chunksize=1)
  big         Pool.apply(touch, (a 100 MB bytearray,)): pickled to the
              worker and back, one byte changed there

The start method is fork, Linux's default before Python 3.14, so both
sides pay the same kind of start-up.
"""
import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import sys
import time


def tiny(x):
    return x + 1


def touch(b):
    b[0] = (b[0] + 1) % 256
    return b


def timed(fn, reps):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--latency", type=int, default=3000)
    ap.add_argument("--map-n", type=int, default=100000)
    ap.add_argument("--map-reps", type=int, default=1)
    ap.add_argument("--cf-map-n", type=int, default=10000)
    ap.add_argument("--big-mb", type=int, default=100)
    ap.add_argument("--big-reps", type=int, default=2)
    a = ap.parse_args()
    ctx = mp.get_context("fork")
    res = {"python": sys.version.split()[0], "workers": a.workers}

    def one_start():
        p = ctx.Pool(a.workers)
        p.apply(tiny, (1,))
        p.terminate()
        p.join()

    res["start"] = timed(one_start, a.starts)

    with ctx.Pool(a.workers) as pool:
        for i in range(200):
            pool.apply(tiny, (i,))
        lat = []
        for i in range(a.latency):
            t0 = time.perf_counter()
            pool.apply(tiny, (i,))
            lat.append(time.perf_counter() - t0)
        res["latency"] = lat

        pool.map(tiny, range(1000), chunksize=1)
        res["map"] = timed(lambda: pool.map(tiny, range(a.map_n), chunksize=1), a.map_reps)

        data = bytearray(a.big_mb * 1000 * 1000)
        big = []
        for _ in range(a.big_reps):
            t0 = time.perf_counter()
            back = pool.apply(touch, (data,))
            big.append(time.perf_counter() - t0)
            data = back
        res["big"] = big

    with cf.ProcessPoolExecutor(a.workers, mp_context=ctx) as ex:
        for i in range(200):
            ex.submit(tiny, i).result()
        lat = []
        for i in range(min(a.latency, 2000)):
            t0 = time.perf_counter()
            ex.submit(tiny, i).result()
            lat.append(time.perf_counter() - t0)
        res["cf_latency"] = lat
        res["cf_map"] = timed(lambda: list(ex.map(tiny, range(a.cf_map_n), chunksize=1)), 1)
        res["cf_map_n"] = a.cf_map_n

    json.dump(res, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
