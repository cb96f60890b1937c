/*
 * Native AEAD offload: the batched ESP contract of src/crypto/aead.ts on OpenSSL (3.0, inside node).
 *
 * Each SA owns two provider cipher contexts keyed once at creation (one to seal, one to open), so per
 * packet only the nonce is set. Packets call the provider's functions (provider-cipher(7)) directly:
 * in OpenSSL 3.0, EVP_CipherInit_ex asks the provider for the IV length by name on every call, and with
 * the tag ctrl that was ~40% of a 64-byte seal. One-shot calls stay on EVP, with the same fetched ciphers.
 * ESP layout: SPI(4) | Seq(4) | IV(8) | text | ICV(16).
 *   nonce = salt(4) || IV(8)                 (RFC 4106 section 4, RFC 7634 section 2)
 *   AAD   = SPI || Seq                       (RFC 4106 section 5, RFC 7634 section 2.1)
 *   AAD   = SPI || SeqHigh || SeqLow         with ESN (RFC 4303 section 2.2.1, RFC 4106 section 5)
 * SAs live in a per-environment table; JS holds a handle = generation << 16 | slot, so a handle
 * kept after free (or after its slot is reused) no longer matches and yields BadHandle.
 * Keys are never copied back to JS; salts are cleansed and contexts freed (the provider's freectx
 * zeroizes the key schedule) when an SA is freed or the environment shuts down.
 *
 * Submitted batches (aeadSubmit) run at once, or, with the crypto thread on (aeadCryptoThread), on
 * one thread of their own while the caller classifies the rest of its batch; aeadSettle waits for
 * them. One thread keeps each SA's contexts single-user. Creating or freeing an SA settles first,
 * so the table never changes under the thread. Both sides spin briefly before they sleep: waking
 * a sleeping CPU costs tens of microseconds, a whole chunk of packets.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdatomic.h>

#include "napi_args.h"

/* JS error codes (error.code); src/crypto/native-backend.ts turns every error into an AeadError. */
#define E_AEAD_ARGUMENT "ERR_AEAD_ARGUMENT"
#define E_AEAD_TABLE_FULL "ERR_AEAD_TABLE_FULL"
#define E_AEAD_OPENSSL "ERR_AEAD_OPENSSL"
#define E_AEAD_INTERNAL "ERR_AEAD_INTERNAL"

/* Must match AeadStatus in src/crypto/aead.ts. */
enum { STATUS_OK = 0, STATUS_AUTH_FAILED = 1, STATUS_BAD_HANDLE = 2, STATUS_BAD_BOUNDS = 3 };
/* Must match AeadOp / AEAD_OP_STRIDE in src/crypto/aead.ts. */
enum { OP_HANDLE = 0, OP_ESP_OFFSET = 1, OP_TEXT_LENGTH = 2, OP_SEQ_HIGH = 3, OP_STRIDE = 4 };

#define ESP_HEADER_BYTES 16 /* SPI + Seq + IV */
#define ESP_IV_OFFSET 8
#define ICV_BYTES 16
#define SALT_BYTES 4
#define NONCE_BYTES 12
#define MAX_SAS 65536u        /* slot index lives in the low 16 bits of a handle */
#define MAX_GENERATION 0x7fff /* keeps handles positive int32 */
#define BARE_SLOTS 32         /* packets the bare benchmark cycles over, like one batch */

/* Algorithm ids shared with src/crypto/native-backend.ts. */
enum { ALG_AES_GCM_128 = 0, ALG_AES_GCM_256 = 1, ALG_CHACHA20_POLY1305 = 2, ALG_COUNT = 3 };
static const char *const alg_names[ALG_COUNT] = {"aes-gcm-16-128", "aes-gcm-16-256", "chacha20-poly1305"};
static const char *const alg_fetch_names[ALG_COUNT] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
static const size_t alg_key_bytes[ALG_COUNT] = {16, 32, 32};

/* One algorithm's functions in the provider EVP_CIPHER_fetch picks; the fetched cipher keeps it loaded. */
typedef struct {
  EVP_CIPHER *cipher;
  void *provctx;
  OSSL_FUNC_cipher_newctx_fn *newctx;
  OSSL_FUNC_cipher_freectx_fn *freectx;
  OSSL_FUNC_cipher_encrypt_init_fn *encrypt_init;
  OSSL_FUNC_cipher_decrypt_init_fn *decrypt_init;
  OSSL_FUNC_cipher_update_fn *update;
  OSSL_FUNC_cipher_final_fn *final;
  OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
  OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
} aead_impl;

typedef struct {
  const aead_impl *impl;
  void *seal; /* provider cipher contexts */
  void *open;
  uint8_t salt[SALT_BYTES];
  uint16_t generation;
  uint8_t in_use;
  uint8_t esn;
} aead_sa;

/* A submitted run of op records over one buffer. */
typedef struct {
  uint8_t *buf;
  size_t buf_len;
  const int32_t *ops;
  uint8_t *status;
  int32_t count;
  uint8_t seal;
} aead_job;

#define JOB_QUEUE 64 /* submitted jobs the crypto thread may have outstanding */

/* The crypto thread and its job queue: jobs [head, tail) are waiting or running. The caller
 * writes tail, the thread writes head; each announces a sleep in a flag the other checks after
 * publishing (sequentially consistent, so a wake-up is never lost). */
typedef struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t work; /* the thread sleeps on it for jobs */
  pthread_cond_t done; /* the caller sleeps on it for a ticket to be done (room in the queue, or all) */
  aead_job jobs[JOB_QUEUE];
  _Atomic uint64_t head, tail;
  atomic_int thread_sleeping, caller_sleeping, stopping;
  uint64_t awaited; /* the ticket the caller waits for (caller side only) */
  int running;
} aead_worker;

#define WORKER_SPIN_NS 100000 /* the thread waits this long for the next job before it sleeps */
#define CALLER_SPIN_NS 200000 /* aeadSettle spins this long (ten chunks of large packets) before it sleeps */

typedef struct {
  aead_impl impls[ALG_COUNT]; /* found on first use */
  aead_sa *slots;
  uint32_t capacity;
  uint32_t next; /* where the search for a free slot starts, so freed slots are reused late */
  aead_worker worker;
} aead_table;

/* ---- provider functions ------------------------------------------------------------------ */

/* Copies the functions of one dispatch table into im; the caller checks that all were there. */
static void impl_take(aead_impl *im, const OSSL_DISPATCH *fn) {
  for (; fn->function_id != 0; fn++) {
    switch (fn->function_id) {
      case OSSL_FUNC_CIPHER_NEWCTX: im->newctx = OSSL_FUNC_cipher_newctx(fn); break;
      case OSSL_FUNC_CIPHER_FREECTX: im->freectx = OSSL_FUNC_cipher_freectx(fn); break;
      case OSSL_FUNC_CIPHER_ENCRYPT_INIT: im->encrypt_init = OSSL_FUNC_cipher_encrypt_init(fn); break;
      case OSSL_FUNC_CIPHER_DECRYPT_INIT: im->decrypt_init = OSSL_FUNC_cipher_decrypt_init(fn); break;
      case OSSL_FUNC_CIPHER_UPDATE: im->update = OSSL_FUNC_cipher_update(fn); break;
      case OSSL_FUNC_CIPHER_FINAL: im->final = OSSL_FUNC_cipher_final(fn); break;
      case OSSL_FUNC_CIPHER_GET_CTX_PARAMS: im->get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(fn); break;
      case OSSL_FUNC_CIPHER_SET_CTX_PARAMS: im->set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(fn); break;
      default: break;
    }
  }
}

/* Finds alg's functions in the provider that implements it, once; returns NULL if it has none. */
static const aead_impl *impl_for(aead_table *t, int alg) {
  aead_impl *im = &t->impls[alg];
  if (im->cipher != NULL) return im;
  aead_impl found = {0};
  found.cipher = EVP_CIPHER_fetch(NULL, alg_fetch_names[alg], NULL);
  if (found.cipher == NULL) return NULL;
  const OSSL_PROVIDER *prov = EVP_CIPHER_get0_provider(found.cipher);
  const char *name = EVP_CIPHER_get0_name(found.cipher); /* the first of the implementation's names */
  size_t len = strlen(name);
  int no_cache = 0;
  const OSSL_ALGORITHM *algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_cache);
  for (const OSSL_ALGORITHM *a = algs; a != NULL && a->algorithm_names != NULL; a++) {
    if (strncasecmp(a->algorithm_names, name, len) == 0 && (a->algorithm_names[len] == ':' || a->algorithm_names[len] == '\0')) {
      impl_take(&found, a->implementation);
      break;
    }
  }
  OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs); /* the dispatch tables themselves are static */
  found.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
  if (found.newctx == NULL || found.freectx == NULL || found.encrypt_init == NULL || found.decrypt_init == NULL ||
      found.update == NULL || found.final == NULL || found.get_ctx_params == NULL || found.set_ctx_params == NULL) {
    EVP_CIPHER_free(found.cipher);
    return NULL;
  }
  *im = found;
  return im;
}

/* ---- per-SA contexts ---------------------------------------------------------------------- */

static void sa_release(aead_sa *sa) {
  if (sa->seal != NULL) sa->impl->freectx(sa->seal); /* frees and cleanses the key schedule */
  if (sa->open != NULL) sa->impl->freectx(sa->open);
  sa->seal = NULL;
  sa->open = NULL;
  OPENSSL_cleanse(sa->salt, sizeof sa->salt);
}

/* A provider context keyed for init (encrypt_init or decrypt_init), or NULL. */
static void *keyed_context(const aead_impl *im, OSSL_FUNC_cipher_encrypt_init_fn *init, const uint8_t *key, size_t key_len) {
  void *ctx = im->newctx(im->provctx);
  if (ctx != NULL && init(ctx, key, key_len, NULL, 0, NULL) != 1) {
    im->freectx(ctx);
    return NULL;
  }
  return ctx;
}

/* Keys both contexts from key || salt; on failure nothing is left allocated. */
static int sa_init(aead_sa *sa, const aead_impl *im, int alg, const uint8_t *key_and_salt, int esn) {
  sa->impl = im;
  sa->seal = keyed_context(im, im->encrypt_init, key_and_salt, alg_key_bytes[alg]);
  sa->open = keyed_context(im, im->decrypt_init, key_and_salt, alg_key_bytes[alg]);
  if (sa->seal == NULL || sa->open == NULL) {
    sa_release(sa);
    ERR_clear_error();
    return 0;
  }
  memcpy(sa->salt, key_and_salt + alg_key_bytes[alg], SALT_BYTES);
  sa->esn = (uint8_t)(esn != 0);
  return 1;
}

/* Sets the nonce on ctx (init is encrypt_init or decrypt_init) and feeds the ESP AAD; returns 1 on success. */
static int start_packet(const aead_sa *sa, void *ctx, OSSL_FUNC_cipher_encrypt_init_fn *init, const uint8_t *esp, uint32_t seq_high) {
  uint8_t nonce[NONCE_BYTES];
  uint8_t aad[12];
  size_t aad_len, outl;
  memcpy(nonce, sa->salt, SALT_BYTES);
  memcpy(nonce + SALT_BYTES, esp + ESP_IV_OFFSET, 8);
  memcpy(aad, esp, 4); /* SPI */
  if (sa->esn) {       /* RFC 4303 section 2.2.1: the high 32 bits are authenticated, not sent */
    aad[4] = (uint8_t)(seq_high >> 24);
    aad[5] = (uint8_t)(seq_high >> 16);
    aad[6] = (uint8_t)(seq_high >> 8);
    aad[7] = (uint8_t)seq_high;
    memcpy(aad + 8, esp + 4, 4);
    aad_len = 12;
  } else {
    memcpy(aad + 4, esp + 4, 4);
    aad_len = 8;
  }
  /* Without a key the provider's init only sets the nonce; a NULL output makes update take AAD. */
  return init(ctx, NULL, 0, nonce, NONCE_BYTES, NULL) == 1 && sa->impl->update(ctx, NULL, &outl, aad_len, aad, aad_len) == 1;
}

/* Encrypts the text in place and writes the ICV after it. */
static int seal_packet(const aead_sa *sa, uint8_t *esp, size_t text_len, uint32_t seq_high) {
  const aead_impl *im = sa->impl;
  uint8_t *text = esp + ESP_HEADER_BYTES, *icv = text + text_len;
  OSSL_PARAM tag[2] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, icv, ICV_BYTES), OSSL_PARAM_END};
  size_t outl;
  return start_packet(sa, sa->seal, im->encrypt_init, esp, seq_high) &&
         (text_len == 0 || im->update(sa->seal, text, &outl, text_len, text, text_len) == 1) &&
         im->final(sa->seal, icv, &outl, 0) == 1 && im->get_ctx_params(sa->seal, tag) == 1;
}

/* Verifies the ICV (the provider's final compares in constant time) and decrypts in place. */
static int open_packet(const aead_sa *sa, uint8_t *esp, size_t text_len, uint32_t seq_high) {
  const aead_impl *im = sa->impl;
  uint8_t *text = esp + ESP_HEADER_BYTES, *icv = text + text_len;
  OSSL_PARAM tag[2] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, icv, ICV_BYTES), OSSL_PARAM_END};
  size_t outl;
  return start_packet(sa, sa->open, im->decrypt_init, esp, seq_high) &&
         (text_len == 0 || im->update(sa->open, text, &outl, text_len, text, text_len) == 1) &&
         im->set_ctx_params(sa->open, tag) == 1 && im->final(sa->open, icv, &outl, 0) == 1;
}

/* ---- SA table ----------------------------------------------------------------------------- */

static aead_sa *table_lookup(aead_table *t, int32_t handle) {
  uint32_t slot, generation;
  if (handle <= 0) return NULL;
  slot = (uint32_t)handle & 0xffffu;
  generation = (uint32_t)handle >> 16;
  if (slot >= t->capacity) return NULL;
  aead_sa *sa = &t->slots[slot];
  if (!sa->in_use || sa->generation != generation) return NULL;
  return sa;
}

/* Returns a free slot index, growing the table if needed, or -1 when MAX_SAS are in use. */
static int64_t table_reserve(aead_table *t) {
  for (uint32_t n = 0; n < t->capacity; n++) {
    uint32_t i = (t->next + n) % t->capacity;
    if (!t->slots[i].in_use) {
      t->next = (i + 1) % t->capacity;
      return i;
    }
  }
  if (t->capacity >= MAX_SAS) return -1;
  uint32_t grown = t->capacity == 0 ? 64 : t->capacity * 2;
  if (grown > MAX_SAS) grown = MAX_SAS;
  aead_sa *slots = realloc(t->slots, grown * sizeof *slots);
  if (slots == NULL) return -1;
  memset(slots + t->capacity, 0, (grown - t->capacity) * sizeof *slots);
  for (uint32_t i = t->capacity; i < grown; i++) slots[i].generation = 1;
  uint32_t first = t->capacity;
  t->slots = slots;
  t->capacity = grown;
  t->next = first + 1;
  return first;
}

static void table_free_slot(aead_sa *sa) {
  sa_release(sa);
  sa->in_use = 0;
  sa->esn = 0;
  sa->generation = (uint16_t)(sa->generation % MAX_GENERATION + 1);
}

/* ---- batches and the crypto thread ------------------------------------------------------- */

/* Seals or opens every op of a job; per-packet outcomes go to its status array. */
static void run_job(aead_table *t, const aead_job *job) {
  for (int32_t i = 0; i < job->count; i++) {
    const int32_t *op = job->ops + (size_t)i * OP_STRIDE;
    aead_sa *sa = table_lookup(t, op[OP_HANDLE]);
    if (sa == NULL) {
      job->status[i] = STATUS_BAD_HANDLE;
      continue;
    }
    int32_t esp = op[OP_ESP_OFFSET], text_len = op[OP_TEXT_LENGTH];
    if (esp < 0 || text_len < 0 || (uint64_t)esp + ESP_HEADER_BYTES + (uint64_t)text_len + ICV_BYTES > job->buf_len) {
      job->status[i] = STATUS_BAD_BOUNDS;
      continue;
    }
    uint8_t *packet = job->buf + esp;
    uint32_t seq_high = (uint32_t)op[OP_SEQ_HIGH];
    if (job->seal ? seal_packet(sa, packet, (size_t)text_len, seq_high) : open_packet(sa, packet, (size_t)text_len, seq_high)) {
      job->status[i] = STATUS_OK;
      continue;
    }
    /* Fail closed: never leave plaintext (seal) or unauthenticated plaintext (open) behind. */
    OPENSSL_cleanse(packet + ESP_HEADER_BYTES, (size_t)text_len + (job->seal ? ICV_BYTES : 0));
    ERR_clear_error();
    job->status[i] = STATUS_AUTH_FAILED;
  }
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spins until ready(w) or spin_ns pass; returns ready(w). */
static int spin_until(aead_worker *w, int (*ready)(aead_worker *), uint64_t spin_ns) {
  uint64_t deadline = 0;
  for (uint32_t i = 0;; i++) {
    if (ready(w)) return 1;
    cpu_relax();
    if ((i & 255) == 0) {
      uint64_t now = monotonic_ns();
      if (deadline == 0) deadline = now + spin_ns;
      else if (now >= deadline) return ready(w);
    }
  }
}

static int has_work(aead_worker *w) { return atomic_load(&w->head) != atomic_load(&w->tail) || atomic_load(&w->stopping); }


static void *worker_main(void *arg) {
  aead_table *t = arg;
  aead_worker *w = &t->worker;
  for (;;) {
    if (!spin_until(w, has_work, WORKER_SPIN_NS)) {
      pthread_mutex_lock(&w->lock);
      atomic_store(&w->thread_sleeping, 1);
      while (!has_work(w)) pthread_cond_wait(&w->work, &w->lock);
      atomic_store(&w->thread_sleeping, 0);
      pthread_mutex_unlock(&w->lock);
    }
    uint64_t head = atomic_load(&w->head);
    if (head == atomic_load(&w->tail)) break; /* stopping, and nothing left */
    run_job(t, &w->jobs[head % JOB_QUEUE]);
    atomic_store(&w->head, head + 1);
    if (atomic_load(&w->caller_sleeping)) {
      pthread_mutex_lock(&w->lock);
      pthread_cond_signal(&w->done);
      pthread_mutex_unlock(&w->lock);
    }
  }
  return NULL;
}

/* Wakes the crypto thread if it sleeps (after the caller published tail or stopping). */
static void wake_worker(aead_worker *w) {
  if (!atomic_load(&w->thread_sleeping)) return;
  pthread_mutex_lock(&w->lock);
  pthread_cond_signal(&w->work);
  pthread_mutex_unlock(&w->lock);
}

static int awaited_done(aead_worker *w) { return atomic_load(&w->head) >= w->awaited; }

/* Returns once job `ticket` (the value aeadSubmit returned) and every job before it have run:
 * spins, then sleeps on `done`. */
static void table_settle_through(aead_table *t, uint64_t ticket) {
  aead_worker *w = &t->worker;
  uint64_t tail = atomic_load(&w->tail);
  if (ticket > tail) ticket = tail; /* a ticket never handed out waits for nothing more than all */
  if (!w->running || atomic_load(&w->head) >= ticket) return;
  w->awaited = ticket;
  if (spin_until(w, awaited_done, CALLER_SPIN_NS)) return;
  pthread_mutex_lock(&w->lock);
  atomic_store(&w->caller_sleeping, 1);
  while (!awaited_done(w)) pthread_cond_wait(&w->done, &w->lock);
  atomic_store(&w->caller_sleeping, 0);
  pthread_mutex_unlock(&w->lock);
}

/* Returns once every submitted job has run (at once when there is no crypto thread). */
static void table_settle(aead_table *t) {
  table_settle_through(t, atomic_load(&t->worker.tail));
}

/* Runs the job now, or queues it for the crypto thread (waiting for room if the queue is full).
 * Returns its ticket: jobs are numbered from 1 in submission order, with or without the thread. */
static uint64_t table_submit(aead_table *t, const aead_job *job) {
  aead_worker *w = &t->worker;
  uint64_t tail = atomic_load(&w->tail);
  if (!w->running) {
    run_job(t, job);
    atomic_store(&w->tail, tail + 1);
    atomic_store(&w->head, tail + 1);
    return tail + 1;
  }
  /* A full queue: wait until the oldest job is done (only this thread moves tail). */
  if (tail >= JOB_QUEUE) table_settle_through(t, tail + 1 - JOB_QUEUE);
  w->jobs[tail % JOB_QUEUE] = *job;
  atomic_store(&w->tail, tail + 1);
  wake_worker(w);
  return tail + 1;
}

/* Starts or stops the crypto thread (stopping runs what is queued first); w->running says whether it runs. */
static void worker_set(aead_table *t, int on) {
  aead_worker *w = &t->worker;
  if (on == w->running) return;
  if (on) {
    atomic_store(&w->thread_sleeping, 0);
    atomic_store(&w->caller_sleeping, 0);
    atomic_store(&w->stopping, 0);
    if (pthread_mutex_init(&w->lock, NULL) != 0) return;
    if (pthread_cond_init(&w->work, NULL) != 0 || pthread_cond_init(&w->done, NULL) != 0 ||
        pthread_create(&w->thread, NULL, worker_main, t) != 0) {
      pthread_cond_destroy(&w->work);
      pthread_cond_destroy(&w->done);
      pthread_mutex_destroy(&w->lock);
      return;
    }
    w->running = 1;
    return;
  }
  atomic_store(&w->stopping, 1);
  wake_worker(w);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->work);
  pthread_cond_destroy(&w->done);
  pthread_mutex_destroy(&w->lock);
  w->running = 0;
}

static void table_destroy(void *arg) {
  aead_table *t = arg;
  worker_set(t, 0);
  for (uint32_t i = 0; i < t->capacity; i++) {
    if (t->slots[i].in_use) table_free_slot(&t->slots[i]);
  }
  for (int alg = 0; alg < ALG_COUNT; alg++) EVP_CIPHER_free(t->impls[alg].cipher);
  free(t->slots);
  free(t);
}

/* ---- arguments -------------------------------------------------------------------------- */

static int get_alg(napi_env env, napi_value v, int *alg) {
  int64_t a;
  if (!get_integer(env, v, E_AEAD_ARGUMENT, "algorithm id", 0, ALG_COUNT - 1, &a)) return 0;
  *alg = (int)a;
  return 1;
}

/* ---- exported functions ------------------------------------------------------------------- */

/* aeadCreateSa(alg, keyAndSalt, esn) -> handle */
static napi_value create_sa(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  aead_table *t;
  void *km;
  size_t km_len;
  int alg;
  bool esn;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (!get_alg(env, argv[0], &alg)) return NULL;
  if (!get_typed_array(env, argv[1], napi_uint8_array, E_AEAD_ARGUMENT, "keyAndSalt", &km, &km_len)) return NULL;
  if (km_len != alg_key_bytes[alg] + SALT_BYTES) {
    throw_range_error(env, E_AEAD_ARGUMENT, "%s needs %zu bytes of key material (%zu-byte key + 4-byte salt), got %zu",
                      alg_names[alg], alg_key_bytes[alg] + SALT_BYTES, alg_key_bytes[alg], km_len);
    return NULL;
  }
  if (!get_bool(env, argv[2], E_AEAD_ARGUMENT, "esn", &esn)) return NULL;
  table_settle(t); /* the table may grow (move) below */
  int64_t slot = table_reserve(t);
  if (slot < 0) {
    throw_range_error(env, E_AEAD_TABLE_FULL, "too many SAs: free unused SAs (the limit is 65536 per thread)");
    return NULL;
  }
  const aead_impl *im = impl_for(t, alg);
  aead_sa *sa = &t->slots[slot];
  if (im == NULL || !sa_init(sa, im, alg, km, esn)) {
    throw_error(env, E_AEAD_OPENSSL, "OpenSSL could not key a %s context", alg_names[alg]);
    return NULL;
  }
  sa->in_use = 1;
  int32_t handle = (int32_t)(((uint32_t)sa->generation << 16) | (uint32_t)slot);
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_create_int32(env, handle, &result));
  return result;
}

/* aeadFreeSa(handle): unknown or stale handles are ignored. */
static napi_value free_sa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  aead_table *t;
  int64_t handle;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (!get_integer(env, argv[0], E_AEAD_ARGUMENT, "handle", INT32_MIN, INT32_MAX, &handle)) return NULL;
  table_settle(t); /* no queued packet may be using its contexts */
  aead_sa *sa = table_lookup(t, (int32_t)handle);
  if (sa != NULL) table_free_slot(sa);
  return NULL;
}

/* Reads the arrays of a job (buf, ops, status) and checks the run [first, first + count) fits them. */
static int get_job(napi_env env, napi_value buf_v, napi_value ops_v, napi_value status_v, int64_t first, int64_t count, int seal,
                   aead_job *job) {
  int32_t *ops;
  uint8_t *status;
  size_t ops_len, status_len;
  if (!get_typed_array(env, buf_v, napi_uint8_array, E_AEAD_ARGUMENT, "buf", (void **)&job->buf, &job->buf_len) ||
      !get_typed_array(env, ops_v, napi_int32_array, E_AEAD_ARGUMENT, "ops", (void **)&ops, &ops_len) ||
      !get_typed_array(env, status_v, napi_uint8_array, E_AEAD_ARGUMENT, "status", (void **)&status, &status_len)) {
    return 0;
  }
  if ((uint64_t)(first + count) * OP_STRIDE > ops_len || (uint64_t)(first + count) > status_len) {
    throw_range_error(env, E_AEAD_ARGUMENT,
                      "ops %lld..%lld exceed the batch arrays (ops holds %zu records, status %zu entries): "
                      "pass a smaller count or larger arrays",
                      (long long)first, (long long)(first + count), ops_len / OP_STRIDE, status_len);
    return 0;
  }
  job->ops = ops + first * OP_STRIDE;
  job->status = status + first;
  job->count = (int32_t)count;
  job->seal = (uint8_t)seal;
  return 1;
}

/* aeadSealBatch / aeadOpenBatch(buf, ops, count, status): runs at once, after anything submitted. */
static napi_value run_batch(napi_env env, napi_callback_info info, int seal) {
  size_t argc = 4;
  napi_value argv[4];
  aead_table *t;
  aead_job job;
  int64_t count;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (!get_integer(env, argv[2], E_AEAD_ARGUMENT, "count", 0, INT32_MAX, &count)) return NULL;
  if (!get_job(env, argv[0], argv[1], argv[3], 0, count, seal, &job)) return NULL;
  table_settle(t);
  run_job(t, &job);
  return NULL;
}

/* aeadSubmit(seal, buf, ops, first, count, status) -> ticket: seals or opens ops [first, first + count),
 * now or on the crypto thread. The caller leaves those packets, records and statuses alone until
 * aeadSettle says the ticket is done. */
static napi_value submit(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result;
  aead_table *t;
  aead_job job;
  bool seal;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  int64_t first, count;
  if (!get_bool(env, argv[0], E_AEAD_ARGUMENT, "seal", &seal)) return NULL;
  if (!get_integer(env, argv[3], E_AEAD_ARGUMENT, "first", 0, INT32_MAX, &first) ||
      !get_integer(env, argv[4], E_AEAD_ARGUMENT, "count", 0, INT32_MAX, &count)) {
    return NULL;
  }
  if (!get_job(env, argv[1], argv[2], argv[5], first, count, seal, &job)) return NULL;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_create_double(env, (double)table_submit(t, &job), &result));
  return result;
}

/* aeadSettle([ticket]): returns when job `ticket` and all before it are done (without one: every job). */
static napi_value settle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  aead_table *t;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (argc < 1) {
    table_settle(t);
    return NULL;
  }
  int64_t ticket;
  if (!get_integer(env, argv[0], E_AEAD_ARGUMENT, "ticket", 0, (int64_t)1 << 53, &ticket)) return NULL;
  table_settle_through(t, (uint64_t)ticket);
  return NULL;
}

/* aeadCryptoThread(on) -> whether it is now on: starts or stops the crypto thread. */
static napi_value crypto_thread(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  aead_table *t;
  bool on;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (!get_bool(env, argv[0], E_AEAD_ARGUMENT, "on", &on)) return NULL;
  worker_set(t, on);
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_boolean(env, t->worker.running != 0, &result));
  return result;
}

static napi_value seal_batch(napi_env env, napi_callback_info info) { return run_batch(env, info, 1); }
static napi_value open_batch(napi_env env, napi_callback_info info) { return run_batch(env, info, 0); }

/* One-shot AEAD with any AAD. seal: returns text || ICV. open: returns text, or null if the ICV fails. */
static napi_value one_shot(napi_env env, napi_callback_info info, int seal) {
  size_t argc = 5;
  napi_value argv[5], result, ab;
  uint8_t *key, *nonce, *aad, *in, *out;
  size_t key_len, nonce_len, aad_len, in_len, out_len;
  aead_table *t;
  int alg, outl, ok;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (!get_alg(env, argv[0], &alg)) return NULL;
  const char *in_name = seal ? "plaintext" : "sealed";
  if (!get_typed_array(env, argv[1], napi_uint8_array, E_AEAD_ARGUMENT, "key", (void **)&key, &key_len) ||
      !get_typed_array(env, argv[2], napi_uint8_array, E_AEAD_ARGUMENT, "nonce", (void **)&nonce, &nonce_len) ||
      !get_typed_array(env, argv[3], napi_uint8_array, E_AEAD_ARGUMENT, "aad", (void **)&aad, &aad_len) ||
      !get_typed_array(env, argv[4], napi_uint8_array, E_AEAD_ARGUMENT, in_name, (void **)&in, &in_len)) {
    return NULL;
  }
  if (key_len != alg_key_bytes[alg]) {
    throw_range_error(env, E_AEAD_ARGUMENT, "%s needs a %zu-byte key, got %zu", alg_names[alg], alg_key_bytes[alg],
                      key_len);
    return NULL;
  }
  if (nonce_len != NONCE_BYTES) {
    throw_range_error(env, E_AEAD_ARGUMENT, "%s needs a 12-byte nonce, got %zu", alg_names[alg], nonce_len);
    return NULL;
  }
  if (in_len > INT_MAX - ICV_BYTES || aad_len > INT_MAX) {
    throw_range_error(env, E_AEAD_ARGUMENT, "one-shot AEAD input is too large: keep text and AAD under 2 GiB");
    return NULL;
  }
  if (!seal && in_len < ICV_BYTES) {
    CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_null(env, &result));
    return result;
  }
  const aead_impl *im = impl_for(t, alg); /* the batch path's fetched cipher */
  if (im == NULL) {
    throw_error(env, E_AEAD_OPENSSL, "OpenSSL has no usable %s cipher", alg_names[alg]);
    return NULL;
  }
  size_t text_len = seal ? in_len : in_len - ICV_BYTES;
  out_len = seal ? in_len + ICV_BYTES : text_len;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_create_arraybuffer(env, out_len, (void **)&out, &ab));
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_create_typedarray(env, napi_uint8_array, out_len, ab, 0, &result));

  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  ok = ctx != NULL && EVP_CipherInit_ex(ctx, im->cipher, NULL, NULL, NULL, seal) == 1 &&
       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
       EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal) == 1 &&
       (aad_len == 0 || EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) == 1) &&
       (text_len == 0 || EVP_CipherUpdate(ctx, out, &outl, in, (int)text_len) == 1);
  if (ok && seal) {
    ok = EVP_CipherFinal_ex(ctx, out + text_len, &outl) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ICV_BYTES, out + text_len) == 1;
  } else if (ok) {
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ICV_BYTES, in + text_len) == 1 &&
         EVP_CipherFinal_ex(ctx, out + text_len, &outl) == 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  if (ok) return result;
  OPENSSL_cleanse(out, out_len);
  ERR_clear_error();
  if (seal) {
    throw_error(env, E_AEAD_OPENSSL, "OpenSSL failed to seal with %s", alg_names[alg]);
    return NULL;
  }
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_null(env, &result));
  return result;
}

static napi_value seal_one(napi_env env, napi_callback_info info) { return one_shot(env, info, 1); }
static napi_value open_one(napi_env env, napi_callback_info info) { return one_shot(env, info, 0); }

/*
 * aeadBenchBare(alg, payloadSize, packets[, slots, slotSize]) -> elapsed ns: the same per-packet
 * work as sealBatch (nonce, AAD, encrypt, tag) in a C loop, without crossing N-API, cycling over
 * `slots` packets `slotSize` bytes apart (default BARE_SLOTS packets, each on its own cache lines),
 * so a caller can give it the memory footprint of its own batch.
 */
static napi_value bench_bare(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  aead_table *t;
  int alg;
  int64_t payload, packets, slots = BARE_SLOTS, slot_size = 0;
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&t));
  if (!get_alg(env, argv[0], &alg)) return NULL;
  if (!get_integer(env, argv[1], E_AEAD_ARGUMENT, "payloadSize", 0, 65535, &payload)) return NULL;
  if (!get_integer(env, argv[2], E_AEAD_ARGUMENT, "packets", 1, INT32_MAX, &packets)) return NULL;
  if (argc >= 5) {
    if (!get_integer(env, argv[3], E_AEAD_ARGUMENT, "slots", 1, 65536, &slots)) return NULL;
    int64_t min_slot_size = payload + ESP_HEADER_BYTES + ICV_BYTES;
    if (!get_integer(env, argv[4], E_AEAD_ARGUMENT, "slotSize", min_slot_size, 1 << 20, &slot_size)) return NULL;
  }

  uint8_t key_and_salt[32 + SALT_BYTES];
  memset(key_and_salt, 0x42, sizeof key_and_salt); /* a fixed, public benchmark key */
  aead_sa sa;
  memset(&sa, 0, sizeof sa);
  /* By default packets start on 64-byte boundaries, as the frame slots do (their size is a multiple of 64). */
  size_t stride = slot_size > 0 ? (size_t)slot_size : ((size_t)payload + ESP_HEADER_BYTES + ICV_BYTES + 63) & ~(size_t)63;
  size_t bytes = (((size_t)slots * stride) + 63) & ~(size_t)63;
  uint8_t *buf = aligned_alloc(64, bytes);
  if (buf != NULL) memset(buf, 0, bytes);
  const aead_impl *im = impl_for(t, alg);
  if (buf == NULL || im == NULL || !sa_init(&sa, im, alg, key_and_salt, 0)) {
    free(buf);
    throw_error(env, E_AEAD_OPENSSL, "bench: could not set up the benchmark SA or buffer");
    return NULL;
  }
  struct timespec t0, t1;
  int ok = 1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t i = 0; i < packets && ok; i++) {
    uint8_t *esp = buf + (size_t)(i % slots) * stride;
    uint32_t seq = (uint32_t)i + 1;
    esp[4] = (uint8_t)(seq >> 24);
    esp[5] = (uint8_t)(seq >> 16);
    esp[6] = (uint8_t)(seq >> 8);
    esp[7] = (uint8_t)seq;
    memcpy(esp + ESP_IV_OFFSET + 4, esp + 4, 4); /* IV = counter, as the data plane builds it */
    ok = seal_packet(&sa, esp, (size_t)payload, 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  sa_release(&sa);
  free(buf);
  if (!ok) {
    ERR_clear_error();
    throw_error(env, E_AEAD_OPENSSL, "bench: OpenSSL failed to seal");
    return NULL;
  }
  double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
  CHECK_NAPI(env, E_AEAD_INTERNAL, napi_create_double(env, ns, &result));
  return result;
}

napi_status aead_register(napi_env env, napi_value exports) {
  aead_table *t = calloc(1, sizeof *t);
  if (t == NULL) return napi_generic_failure;
  napi_status s = napi_add_env_cleanup_hook(env, table_destroy, t);
  if (s != napi_ok) {
    free(t);
    return s;
  }
  napi_property_descriptor props[] = {
      {"aeadCreateSa", NULL, create_sa, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadFreeSa", NULL, free_sa, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadSealBatch", NULL, seal_batch, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadOpenBatch", NULL, open_batch, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadSubmit", NULL, submit, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadSettle", NULL, settle, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadCryptoThread", NULL, crypto_thread, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadSealOne", NULL, seal_one, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadOpenOne", NULL, open_one, NULL, NULL, NULL, napi_enumerable, t},
      {"aeadBenchBare", NULL, bench_bare, NULL, NULL, NULL, napi_enumerable, t},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
