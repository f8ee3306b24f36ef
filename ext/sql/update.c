/*
** sql/update.c: update=1 of item2vec_train, which continues training a
** stored model on new interactions instead of starting again.
**
** SQL served:
**   SELECT item2vec_train('events_today', 'userId', 'movieId',
**                         'model=recs', 'update=1');
** continues model 'recs' (trained earlier with 'save_context=1') on the rows
** of events_today and stores it again, context vectors included.
**
** How it works.  item2vec_train reads the stored model first
** (i2v_store_read_state: raw input vectors, context vectors, frequencies).
** i2v_update_options checks that vector_size and sg, which cannot change,
** match the stored model, and fills every training option the call did not
** give from the stored params (window, negative, alpha, epochs, ...), as a
** gensim model keeps its settings between train() calls; order_by, workers,
** verbose, max_final_vocab and stored_rate describe the run, not the model,
** and are not taken over.  The source is then read with min_count=1 so that
** no item the model has is lost, and i2v_update_merge builds the vocabulary:
** the stored items first, in their order, so the trainer starts their rows
** from the stored vectors, then new items that reach min_count, most
** frequent first, with fresh vectors.  Counts are the stored frequency plus
** the new occurrences (they drive negative sampling and subsampling).  The
** tokens of dropped new items are removed and sequences left with fewer than
** two items dropped, in place.
**
** Learning rate.  It restarts at alpha and decays to min_alpha over the
** update's epochs, as gensim's train() does, but only new items learn at
** that rate.  A stored item learns at alpha x min(stored_rate, new / (stored
** + new)), its share of occurrences that are new, capped at stored_rate
** (0.1 by default).  Restarting everything at alpha (stored_rate would be 1
** for all) lets a day of events pull the whole space around: on MovieLens
** small, updating a model of the first 90% on the last 10% that way left it
** further from a full retrain (top-10 overlap 0.42) than not updating at all
** (0.69); with the cap it came closer (0.71).  Items the update does not
** mention keep both their vectors exactly.
*/
#include <stdio.h>
#include <string.h>

#include "sql/update.h"

static int option_index(const char *name) {
  for (int i = 0; i < i2v_options_count(); i++)
    if (strcmp(i2v_options_name(i), name) == 0) return i;
  return -1;
}

static int was_given(uint64_t given, const char *name) {
  int i = option_index(name);
  return i >= 0 && (given >> i & 1);
}

/* Options that describe a run, not the model: never taken from the store. */
static int run_option(const char *name) {
  static const char *const run[] = {"model",           "order_by",     "workers",
                                    "verbose",         "save_context", "update",
                                    "max_final_vocab", "vector_size",  "stored_rate"};
  for (size_t i = 0; i < sizeof(run) / sizeof(run[0]); i++)
    if (strcmp(run[i], name) == 0) return 1;
  return 0;
}

int i2v_update_check(const i2v_options *o, const char *fname, char **pzErr) {
  if (!o->update && was_given(o->given, "stored_rate")) {
    *pzErr = sqlite3_mprintf(
        "%s: option 'stored_rate' applies only with update=1 (it sets how fast "
        "the stored model's items learn while the model is updated)",
        fname);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int i2v_update_options(sqlite3 *db, const char *fname, const i2v_stored_model *sm, i2v_options *o,
                       char **pzErr) {
  const char *model = i2v_options_model(o);
  uint64_t given = o->given;
  sqlite3_stmt *st = NULL;
  char err[512], arg[160];
  int rc;

  if (was_given(given, "vector_size") && o->vector_size != sm->dim) {
    *pzErr = sqlite3_mprintf(
        "%s: update=1 cannot change vector_size: model '%s' has vector_size %d, "
        "got %d; train a new model (without update=1) to change it",
        fname, model, sm->dim, o->vector_size);
    return SQLITE_ERROR;
  }
  o->vector_size = sm->dim;

  /* json_each over the stored params; a missing or malformed one is empty.
  ** (Not json_valid: it answers 0, not an error, when it runs out of memory,
  ** which would drop the stored options silently.) */
  rc = sqlite3_prepare_v2(db, "SELECT key, value, type FROM json_each(?1)", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s: cannot read the params of model '%s': %s", fname, model,
                             sqlite3_errmsg(db));
    return rc;
  }
  sqlite3_bind_text(st, 1, sm->params ? sm->params : "{}", -1, SQLITE_STATIC);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *key = (const char *)sqlite3_column_text(st, 0);
    const char *type = (const char *)sqlite3_column_text(st, 2);
    if (!key || !type || option_index(key) < 0 || run_option(key)) continue;
    if (strcmp(type, "integer") && strcmp(type, "real") && strcmp(type, "text"))
      continue; /* null: nothing stored */
    const char *val = (const char *)sqlite3_column_text(st, 1);
    if (!val) { /* a number's text: the conversion ran out of memory */
      rc = SQLITE_NOMEM;
      goto done;
    }
    if (strcmp(key, "sg") == 0 && was_given(given, "sg") && strcmp(val, o->sg ? "1" : "0") != 0) {
      *pzErr = sqlite3_mprintf(
          "%s: update=1 cannot change sg: model '%s' was trained with sg=%s (%s), "
          "got sg=%d; train a new model (without update=1) to change it",
          fname, model, val, strcmp(val, "0") ? "skip-gram" : "CBOW", o->sg);
      rc = SQLITE_ERROR;
      goto done;
    }
    if (was_given(given, key)) continue;
    snprintf(arg, sizeof(arg), "%s=%s", key, val);
    int orc = i2v_options_set(o, arg, fname, &i2v_sqlite_alloc, err, sizeof(err));
    if (orc == I2V_NOMEM) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    if (orc != I2V_OK) {
      *pzErr = sqlite3_mprintf(
          "%s: model '%s' was stored with an option this version cannot use (%s); "
          "give '%s=...' explicitly",
          fname, model, err, key);
      rc = SQLITE_ERROR;
      goto done;
    }
  }
  if (rc == SQLITE_ERROR && sqlite3_strglob("*malformed JSON*", sqlite3_errmsg(db)) == 0)
    rc = SQLITE_DONE; /* malformed params: nothing stored to carry over */
  if (rc != SQLITE_DONE) {
    *pzErr = sqlite3_mprintf("%s: cannot read the params of model '%s': %s", fname, model,
                             sqlite3_errmsg(db));
    goto done;
  }
  rc = SQLITE_OK;
  o->save_context = 1; /* the next update continues from this one */
done:
  sqlite3_finalize(st);
  return rc;
}

/* The entry as a value to look up in another vocabulary. */
static void entry_value(const i2v_vocab *v, const i2v_vocab_entry *e, i2v_value *out) {
  memset(out, 0, sizeof(*out));
  if (e->key_is_int) {
    out->type = I2V_INTEGER;
    out->i = e->v.i;
    return;
  }
  out->type = e->type;
  out->r = e->v.r;
  out->bytes = i2v_vocab_bytes(v, e);
  out->n = e->len;
}

int i2v_update_merge(const char *fname, const char *source, i2v_stored_model *sm, i2v_dataset *ds,
                     const i2v_options *o, i2v_update_stats *us, float **rate_out, char **pzErr) {
  i2v_vocab merged = sm->items;
  uint32_t *map = NULL;
  uint64_t *counts = NULL;
  float *rate = NULL;
  size_t nnew = ds->items.n;
  uint64_t dropped = 0, dropped_tokens = 0;
  int rc = SQLITE_NOMEM;

  /* The merged vocabulary starts as the stored one, taken over. */
  i2v_vocab_init(&sm->items, &i2v_sqlite_alloc);
  memset(us, 0, sizeof(*us));
  us->stored_items = merged.n;
  map = sqlite3_malloc64((nnew ? nnew : 1) * sizeof(uint32_t));
  counts = sqlite3_malloc64((merged.n + nnew) * sizeof(uint64_t));
  if (!map || !counts) goto done;
  for (size_t j = 0; j < merged.n; j++) counts[j] = merged.entries[j].count;

  /* ds->items is most frequent first, so new items join in that order. */
  for (size_t i = 0; i < nnew; i++) {
    i2v_value v;
    entry_value(&ds->items, &ds->items.entries[i], &v);
    int64_t j = i2v_vocab_find(&merged, &v);
    if (j >= 0) {
      /* Saturated: a frequency is stored as a 64-bit integer. */
      counts[j] = counts[j] + ds->counts[i] < counts[j] ? UINT64_MAX : counts[j] + ds->counts[i];
      map[i] = (uint32_t)j;
      us->seen_items++;
    } else if (ds->counts[i] >= (uint64_t)o->min_count &&
               (o->max_final_vocab == 0 || merged.n < (size_t)o->max_final_vocab)) {
      uint32_t one = (uint32_t)i;
      if (i2v_vocab_select(&ds->items, &one, 1, &merged) != I2V_OK) goto done;
      counts[merged.n - 1] = ds->counts[i];
      map[i] = (uint32_t)(merged.n - 1);
      us->new_items++;
    } else {
      map[i] = I2V_CORPUS_NONE;
      dropped++;
    }
  }
  /* Each stored item learns at alpha x min(stored_rate, its share of new
  ** occurrences): untouched items stay as they were, none moves faster than
  ** stored_rate allows. */
  rate = sqlite3_malloc64(us->stored_items * sizeof(float));
  if (!rate) goto done;
  for (size_t j = 0; j < us->stored_items; j++) {
    double old = (double)merged.entries[j].count, all = (double)counts[j];
    double share = all > 0 ? (all - old) / all : 1.0;
    rate[j] = (float)(share < o->stored_rate ? share : o->stored_rate);
  }
  for (size_t j = 0; j < merged.n; j++) merged.entries[j].count = counts[j];

  /* Renumber the tokens in place; drop sequences left under two items. */
  i2v_corpus_renumber(&ds->corpus, map, &dropped_tokens);
  if (ds->corpus.nseq == 0) {
    *pzErr = sqlite3_mprintf(
        "%s: no user in '%s' has two or more items the model knows or that occur "
        "at least %lld times (min_count); nothing to update",
        fname, source, (long long)o->min_count);
    rc = SQLITE_ERROR;
    goto done;
  }
  ds->dropped_items = dropped;
  ds->dropped_tokens = dropped_tokens;
  i2v_vocab_free(&ds->items);
  ds->items = merged;
  i2v_vocab_init(&merged, &i2v_sqlite_alloc);
  sqlite3_free(ds->counts);
  ds->counts = counts;
  counts = NULL;
  *rate_out = rate;
  rate = NULL;
  rc = SQLITE_OK;

done:
  if (rc == SQLITE_NOMEM && !*pzErr)
    *pzErr = sqlite3_mprintf("%s: out of memory merging the vocabularies", fname);
  i2v_vocab_free(&merged);
  sqlite3_free(map);
  sqlite3_free(counts);
  sqlite3_free(rate);
  return rc;
}
