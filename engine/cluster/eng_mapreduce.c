/*
 * eng_mapreduce.c — MapReduce on MPI. See eng_mapreduce.h.
 *
 * Pairs are kept grouped by key in an open-addressing hash table: a group
 * holds its key once and its values back to back ([u32 length][bytes]).
 * Map output goes into one table, folded by the combiner key by key as it
 * grows (fold_group); at a spill and before the shuffle the combiner turns
 * the whole table into a new, smaller one; the shuffle serialises each group for the rank that owns
 * its key ([u32 klen][u32 nvals][key] then nvals x [u32 vlen][value]) and
 * exchanges everything with one MPI_Alltoallv; the receiving rank groups
 * what it got in a second table and reduces it. Outputs are a flat list.
 */
#include "eng_mapreduce.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct group {
  uint64_t hash;
  uint32_t klen;
  long nvals;
  char *vals;           /* [u32 len][bytes] ... */
  size_t vlen, vcap;
  char key[];           /* klen bytes + NUL */
} group;

typedef struct table {
  group **slot;
  size_t cap, n;        /* cap: a power of two */
  size_t bytes;         /* keys and values held */
  long pairs;
} table;

typedef struct outrec {
  char *key;            /* owns the record: key, NUL, value, NUL */
  uint32_t klen, vlen;
  const char *val;
} outrec;

struct eng_mr {
  eng_mr_spec spec;
  int rank, size;
  int err;              /* first local error (sticky) */
  int folding;          /* inside the combiner, folding one key's map output */
  table map;            /* map output, combined key by key and at spills */
  outrec *out;          /* reduce outputs */
  long nout, outcap;
  eng_mr_stats st;
};

struct eng_mr_out {
  eng_mr *mr;
  table *t;             /* map and combine emit into a table */
  int to_output;        /* reduce emits outputs */
};

struct eng_mr_values {
  const char *p, *end;
  long n;
};

/* ------------------------------------------------------------- hashing */

uint64_t eng_mr_hash(const void *key, size_t klen) {
  const unsigned char *p = key;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < klen; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  /* FNV's low bits are weak for short keys: finish with splitmix64's mix. */
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

static int part_of(uint64_t h, int size) { return (int)((h >> 32) % (uint64_t)size); }

int eng_mr_partition(const eng_mr *mr, const void *key, size_t klen) {
  return part_of(eng_mr_hash(key, klen), mr->size);
}

/* -------------------------------------------------------------- tables */

static void table_free(table *t) {
  for (size_t i = 0; i < t->cap; i++)
    if (t->slot[i]) {
      free(t->slot[i]->vals);
      free(t->slot[i]);
    }
  free(t->slot);
  memset(t, 0, sizeof *t);
}

static int table_grow(table *t) {
  size_t ncap = t->cap ? t->cap * 2 : 1024;
  group **ns = calloc(ncap, sizeof *ns);
  if (!ns) return PL_ENOMEM;
  for (size_t i = 0; i < t->cap; i++) {
    group *g = t->slot[i];
    if (!g) continue;
    size_t j = g->hash & (ncap - 1);
    while (ns[j]) j = (j + 1) & (ncap - 1);
    ns[j] = g;
  }
  free(t->slot);
  t->slot = ns;
  t->cap = ncap;
  return 0;
}

static group *table_find(table *t, const void *key, uint32_t klen, uint64_t h, int create) {
  if (create && (t->n + 1) * 4 > t->cap * 3 && table_grow(t)) return NULL;
  if (!t->cap) return NULL;
  size_t j = h & (t->cap - 1);
  for (group *g; (g = t->slot[j]); j = (j + 1) & (t->cap - 1))
    if (g->hash == h && g->klen == klen && !memcmp(g->key, key, klen)) return g;
  if (!create) return NULL;
  group *g = malloc(sizeof *g + klen + 1);
  if (!g) return NULL;
  memset(g, 0, sizeof *g);
  g->hash = h;
  g->klen = klen;
  memcpy(g->key, key, klen);
  g->key[klen] = 0;
  t->slot[j] = g;
  t->n++;
  t->bytes += klen + sizeof *g;
  return g;
}

static int group_add(table *t, group *g, const void *val, uint32_t vlen) {
  size_t need = g->vlen + 4 + vlen;
  if (need > g->vcap) {
    size_t ncap = g->vcap ? g->vcap * 2 : 32;
    while (ncap < need) ncap *= 2;
    char *nv = realloc(g->vals, ncap);
    if (!nv) return PL_ENOMEM;
    g->vals = nv;
    g->vcap = ncap;
  }
  memcpy(g->vals + g->vlen, &vlen, 4);
  if (vlen) memcpy(g->vals + g->vlen + 4, val, vlen);
  g->vlen = need;
  g->nvals++;
  t->bytes += 4 + vlen;
  t->pairs++;
  return 0;
}

/* ------------------------------------------------------------- outputs */

static int output_add(eng_mr *mr, const void *key, size_t klen, const void *val, size_t vlen) {
  if (klen > UINT32_MAX / 2 || vlen > UINT32_MAX / 2) return PL_EINVAL;
  if (mr->nout == mr->outcap) {
    long ncap = mr->outcap ? mr->outcap * 2 : 256;
    outrec *no = realloc(mr->out, sizeof *no * (size_t)ncap);
    if (!no) return PL_ENOMEM;
    mr->out = no;
    mr->outcap = ncap;
  }
  /* One allocation per record keeps this simple; outputs are few next to
   * the map's pairs (about one per key). */
  char *b = malloc(klen + 1 + vlen + 1);
  if (!b) return PL_ENOMEM;
  memcpy(b, key, klen);
  b[klen] = 0;
  if (vlen) memcpy(b + klen + 1, val, vlen);
  b[klen + 1 + vlen] = 0;
  mr->out[mr->nout++] = (outrec){.key = b, .klen = (uint32_t)klen, .val = b + klen + 1, .vlen = (uint32_t)vlen};
  return 0;
}

static void outputs_clear(eng_mr *mr) {
  for (long i = 0; i < mr->nout; i++) free(mr->out[i].key);
  free(mr->out);
  mr->out = NULL;
  mr->nout = mr->outcap = 0;
}

/* ----------------------------------------------------------- emitting */

/* With a combiner, map output is folded key by key as it arrives: once a
 * key holds FOLD values the combiner turns them into (usually) one. The
 * table then stays about the size of the distinct keys, in cache, instead
 * of holding every pair until a spill (Hadoop and Spark combine map-side
 * in the same spirit). The values are read from the group's old buffer
 * while the combiner's output goes to a new one; the old buffer, large
 * enough, is kept for what comes next. */
#define FOLD 64

static int fold_group(eng_mr *mr, group *g) {
  char *old = g->vals;
  size_t oldlen = g->vlen, oldcap = g->vcap;
  long n = g->nvals;
  g->vals = NULL;
  g->vlen = g->vcap = 0;
  g->nvals = 0;
  mr->map.bytes -= oldlen;
  mr->map.pairs -= n;
  eng_mr_values v = {.p = old, .end = old + oldlen, .n = n};
  eng_mr_out o = {.mr = mr, .t = &mr->map};
  mr->folding = 1;
  int rc = mr->spec.combine(g->key, g->klen, &v, &o, mr->spec.arg) ? PL_EINVAL : 0;
  mr->folding = 0;
  if (g->vlen <= oldcap) {
    if (g->vlen) memcpy(old, g->vals, g->vlen);
    free(g->vals);
    g->vals = old;
    g->vcap = oldcap;
  } else {
    free(old);
  }
  return rc;
}

int eng_mr_emit(eng_mr_out *out, const void *key, size_t klen, const void *val, size_t vlen) {
  if (!out || (!key && klen) || (!val && vlen)) return PL_EINVAL;
  eng_mr *mr = out->mr;
  if (out->to_output) {
    mr->st.outputs++;
    return output_add(mr, key, klen, val, vlen);
  }
  if (klen > UINT32_MAX / 2 || vlen > UINT32_MAX / 2) return PL_EINVAL;
  int from_map = out->t == &mr->map && !mr->folding;
  group *g = table_find(out->t, key, (uint32_t)klen, eng_mr_hash(key, klen), 1);
  if (!g) return PL_ENOMEM;
  int rc = group_add(out->t, g, val, (uint32_t)vlen);
  if (rc || !from_map) return rc;
  mr->st.emitted++;
  return mr->spec.combine && g->nvals >= FOLD ? fold_group(mr, g) : 0;
}

int eng_mr_emit_i64(eng_mr_out *out, const void *key, size_t klen, int64_t v) {
  return eng_mr_emit(out, key, klen, &v, sizeof v);
}

int eng_mr_next(eng_mr_values *v, const void **val, size_t *len) {
  if (!v || v->p >= v->end) return 0;
  uint32_t l;
  memcpy(&l, v->p, 4);
  if (val) *val = v->p + 4;
  if (len) *len = l;
  v->p += 4 + l;
  return 1;
}

int eng_mr_next_i64(eng_mr_values *v, int64_t *val) {
  const void *p;
  size_t len;
  if (!eng_mr_next(v, &p, &len) || len != sizeof(int64_t)) return 0;
  memcpy(val, p, sizeof *val);
  return 1;
}

long eng_mr_count(const eng_mr_values *v) { return v ? v->n : 0; }

/* ---------------------------------------------------------------- job */

int eng_mr_new(const eng_mr_spec *spec, eng_mr **out) {
  *out = NULL;
  if (!spec || !spec->map || !spec->reduce) return PL_EINVAL;
  eng_mr *mr = calloc(1, sizeof *mr);
  if (!mr) return PL_ENOMEM;
  mr->spec = *spec;
  if (!mr->spec.spill_bytes) mr->spec.spill_bytes = (size_t)64 << 20;
  if (MPI_Comm_rank(spec->comm, &mr->rank) != MPI_SUCCESS ||
      MPI_Comm_size(spec->comm, &mr->size) != MPI_SUCCESS) {
    free(mr);
    return PL_EIO;
  }
  *out = mr;
  return 0;
}

void eng_mr_free(eng_mr *mr) {
  if (!mr) return;
  table_free(&mr->map);
  outputs_clear(mr);
  free(mr);
}

/* Fold table `t` through the combiner into a fresh table. */
static int combine_table(eng_mr *mr, table *t) {
  table nt = {0};
  eng_mr_out o = {.mr = mr, .t = &nt};
  int rc = 0;
  for (size_t i = 0; i < t->cap && !rc; i++) {
    group *g = t->slot[i];
    if (!g) continue;
    eng_mr_values v = {.p = g->vals, .end = g->vals + g->vlen, .n = g->nvals};
    if (mr->spec.combine(g->key, g->klen, &v, &o, mr->spec.arg)) rc = PL_EINVAL;
  }
  if (rc) {
    table_free(&nt);
    return rc;
  }
  table_free(t);
  *t = nt;
  return 0;
}

int eng_mr_map_record(eng_mr *mr, const void *rec, size_t len) {
  if (mr->err) return mr->err;
  double t0 = MPI_Wtime();
  eng_mr_out o = {.mr = mr, .t = &mr->map};
  int rc = mr->spec.map(rec, len, &o, mr->spec.arg) ? PL_EINVAL : 0;
  mr->st.records++;
  if (!rc && mr->spec.combine && mr->map.bytes > mr->spec.spill_bytes) rc = combine_table(mr, &mr->map);
  mr->st.map_s += MPI_Wtime() - t0;
  if (rc) mr->err = rc;
  return rc;
}

int eng_mr_map_text(eng_mr *mr, const char *data, size_t len, char sep) {
  size_t i = 0;
  while (i < len) {
    const char *e = memchr(data + i, sep, len - i);
    size_t n = e ? (size_t)(e - (data + i)) : len - i;
    if (n > 0) {
      int rc = eng_mr_map_record(mr, data + i, n);
      if (rc) return rc;
    }
    i += n + 1;
  }
  return 0;
}

/* Every rank learns whether any rank failed: the worst (lowest) code. */
static int agree(eng_mr *mr, int rc) {
  int worst = rc;
  if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, mr->spec.comm) != MPI_SUCCESS) return PL_EIO;
  return worst;
}

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

static int buf_put(buf *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->len + n) nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) return PL_ENOMEM;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  return 0;
}

/* Parse grouped records ([u32 klen][u32 nvals][key] nvals x [u32 len][v])
 * from `p` into table t. */
static int ungroup(table *t, const char *p, size_t len) {
  const char *end = p + len;
  while (p < end) {
    uint32_t klen, nv;
    if (end - p < 8) return PL_EPROTO;
    memcpy(&klen, p, 4);
    memcpy(&nv, p + 4, 4);
    p += 8;
    if ((size_t)(end - p) < klen) return PL_EPROTO;
    const char *key = p;
    p += klen;
    group *g = table_find(t, key, klen, eng_mr_hash(key, klen), 1);
    if (!g) return PL_ENOMEM;
    for (uint32_t k = 0; k < nv; k++) {
      uint32_t vl;
      if (end - p < 4) return PL_EPROTO;
      memcpy(&vl, p, 4);
      if ((size_t)(end - p - 4) < vl) return PL_EPROTO;
      int rc = group_add(t, g, p + 4, vl);
      if (rc) return rc;
      p += 4 + vl;
    }
  }
  return 0;
}

int eng_mr_run(eng_mr *mr) {
  int P = mr->size, rc;
  buf *out = NULL;
  int *scount = NULL, *rcount = NULL, *sdisp = NULL, *rdisp = NULL;
  char *sendb = NULL, *recvb = NULL;
  table rt = {0};
  double t0 = MPI_Wtime();
  rc = mr->err;
  if (!rc && mr->spec.combine) rc = combine_table(mr, &mr->map);
  if ((rc = agree(mr, rc))) goto done;
  mr->st.combined = mr->map.pairs;

  /* Serialise each group for the rank that owns its key. */
  out = calloc((size_t)P, sizeof *out);
  scount = calloc((size_t)P, sizeof *scount);
  rcount = calloc((size_t)P, sizeof *rcount);
  sdisp = calloc((size_t)P, sizeof *sdisp);
  rdisp = calloc((size_t)P, sizeof *rdisp);
  rc = out && scount && rcount && sdisp && rdisp ? 0 : PL_ENOMEM;
  for (size_t i = 0; i < mr->map.cap && !rc; i++) {
    group *g = mr->map.slot[i];
    if (!g) continue;
    int dst = part_of(g->hash, P);
    uint32_t hdr[2] = {g->klen, (uint32_t)g->nvals};
    rc = buf_put(&out[dst], hdr, sizeof hdr);
    if (!rc) rc = buf_put(&out[dst], g->key, g->klen);
    if (!rc) rc = buf_put(&out[dst], g->vals, g->vlen);
    if (!rc && dst != mr->rank) mr->st.sent += g->nvals;
  }
  size_t total = 0;
  for (int r = 0; r < P && !rc; r++) {
    if (out[r].len > INT_MAX || total + out[r].len > INT_MAX) rc = PL_EINVAL; /* MPI counts are int */
    sdisp[r] = (int)total;
    scount[r] = (int)out[r].len;
    total += out[r].len;
    if (r != mr->rank) mr->st.sent_bytes += (long long)out[r].len;
  }
  if (!rc && !(sendb = malloc(total + 1))) rc = PL_ENOMEM;
  for (int r = 0; r < P && !rc; r++)
    if (out[r].len) memcpy(sendb + sdisp[r], out[r].p, out[r].len);
  table_free(&mr->map);
  if ((rc = agree(mr, rc))) goto done;

  if (MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, mr->spec.comm) != MPI_SUCCESS) {
    rc = PL_EIO;
    goto done;
  }
  size_t rtotal = 0;
  for (int r = 0; r < P && !rc; r++) {
    if (rtotal + (size_t)rcount[r] > INT_MAX) rc = PL_EINVAL;
    rdisp[r] = (int)rtotal;
    rtotal += (size_t)rcount[r];
  }
  if (!rc && !(recvb = malloc(rtotal + 1))) rc = PL_ENOMEM;
  if ((rc = agree(mr, rc))) goto done;
  if (MPI_Alltoallv(sendb, scount, sdisp, MPI_BYTE, recvb, rcount, rdisp, MPI_BYTE, mr->spec.comm) !=
      MPI_SUCCESS) {
    rc = PL_EIO;
    goto done;
  }
  free(sendb);
  sendb = NULL;
  rc = ungroup(&rt, recvb, rtotal);
  free(recvb);
  recvb = NULL;
  double t1 = MPI_Wtime();
  mr->st.shuffle_s += t1 - t0;

  /* Reduce each key this rank owns. */
  outputs_clear(mr);
  eng_mr_out o = {.mr = mr, .to_output = 1};
  for (size_t i = 0; i < rt.cap && !rc; i++) {
    group *g = rt.slot[i];
    if (!g) continue;
    eng_mr_values v = {.p = g->vals, .end = g->vals + g->vlen, .n = g->nvals};
    mr->st.keys++;
    if (mr->spec.reduce(g->key, g->klen, &v, &o, mr->spec.arg)) rc = PL_EINVAL;
  }
  mr->st.reduce_s += MPI_Wtime() - t1;
  rc = agree(mr, rc);
done:
  if (out)
    for (int r = 0; r < P; r++) free(out[r].p);
  free(out);
  free(scount);
  free(rcount);
  free(sdisp);
  free(rdisp);
  free(sendb);
  free(recvb);
  table_free(&rt);
  table_free(&mr->map);
  if (rc && !mr->err) mr->err = rc;
  return rc;
}

long eng_mr_outputs(const eng_mr *mr) { return mr->nout; }

int eng_mr_output(const eng_mr *mr, long i, const char **key, size_t *klen, const void **val,
                  size_t *vlen) {
  if (i < 0 || i >= mr->nout) return PL_EINVAL;
  const outrec *o = &mr->out[i];
  if (key) *key = o->key;
  if (klen) *klen = o->klen;
  if (val) *val = o->val;
  if (vlen) *vlen = o->vlen;
  return 0;
}

static int cmp_out(const void *a, const void *b) {
  const outrec *x = a, *y = b;
  size_t n = x->klen < y->klen ? x->klen : y->klen;
  int c = memcmp(x->key, y->key, n);
  if (c) return c;
  return x->klen < y->klen ? -1 : x->klen > y->klen;
}

int eng_mr_gather(eng_mr *mr, int root) {
  int P = mr->size, rc = 0, mine = 0;
  buf b = {0};
  int *counts = NULL, *disp = NULL;
  char *all = NULL;
  if (root < 0 || root >= P) return PL_EINVAL;
  for (long i = 0; i < mr->nout && !rc; i++) {
    uint32_t hdr[2] = {mr->out[i].klen, mr->out[i].vlen};
    rc = buf_put(&b, hdr, sizeof hdr);
    if (!rc) rc = buf_put(&b, mr->out[i].key, mr->out[i].klen);
    if (!rc) rc = buf_put(&b, mr->out[i].val, mr->out[i].vlen);
  }
  if (b.len > INT_MAX) rc = PL_EINVAL;
  mine = (int)b.len;
  if (mr->rank == root) {
    counts = calloc((size_t)P, sizeof *counts);
    disp = calloc((size_t)P, sizeof *disp);
    if (!counts || !disp) rc = PL_ENOMEM;
  }
  if ((rc = agree(mr, rc))) goto done;
  if (MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, root, mr->spec.comm) != MPI_SUCCESS) {
    rc = PL_EIO;
    goto done;
  }
  size_t total = 0;
  if (mr->rank == root) {
    for (int r = 0; r < P && !rc; r++) {
      if (total + (size_t)counts[r] > INT_MAX) rc = PL_EINVAL;
      disp[r] = (int)total;
      total += (size_t)counts[r];
    }
    if (!rc && !(all = malloc(total + 1))) rc = PL_ENOMEM;
  }
  if ((rc = agree(mr, rc))) goto done;
  if (MPI_Gatherv(b.p, mine, MPI_BYTE, all, counts, disp, MPI_BYTE, root, mr->spec.comm) != MPI_SUCCESS) {
    rc = PL_EIO;
    goto done;
  }
  outputs_clear(mr);
  if (mr->rank == root) {
    const char *p = all, *end = all + total;
    while (p < end && !rc) {
      uint32_t hdr[2];
      memcpy(hdr, p, sizeof hdr);
      p += sizeof hdr;
      rc = output_add(mr, p, hdr[0], p + hdr[0], hdr[1]);
      p += hdr[0] + hdr[1];
    }
    if (!rc && mr->nout > 1) qsort(mr->out, (size_t)mr->nout, sizeof *mr->out, cmp_out);
  }
  rc = agree(mr, rc);
done:
  free(b.p);
  free(counts);
  free(disp);
  free(all);
  return rc;
}

void eng_mr_stats_get(const eng_mr *mr, eng_mr_stats *st) { *st = mr->st; }
