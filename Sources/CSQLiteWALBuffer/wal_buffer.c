// A VFS that gathers a transaction's WAL frames and writes them at once.
//
// SQLite writes each WAL frame as two writes, its 24-byte header and then
// its page: with the inbox's group commits (about 50 frames each) that was
// ~4 pwrite calls per durable callback on the writer thread, ~1.7 us each
// here, against ~0.4 us per frame written in one call (BENCHMARKS.md,
// session 18). This VFS is the default one (unix) for every file but WAL
// files, whose contiguous writes it keeps in memory until:
//   - the page after a commit frame's header is written (the header's
//     "database size after commit" field is non-zero only in a commit
//     frame): a transaction's frames never outlive its commit in memory,
//     whatever `synchronous` is;
//   - the WAL is synced (before the sync, so what is synced is complete),
//     read, sized, truncated, hinted or closed;
//   - a write is not contiguous with what is kept (SQLite rewrites a frame
//     of the same transaction in place, or starts the WAL again at offset 0);
//   - the kept bytes would pass WB_LIMIT;
//   - any database file of this VFS passes a shared-memory barrier on the
//     thread that wrote them: SQLite publishes a commit (the wal-index
//     header) around such a barrier, after writing its frames on the same
//     thread, so other connections never see a frame that is not in the
//     file. With the commit-frame rule this finds nothing left; it is the
//     guard should SQLite ever write frames otherwise. (A registry of open
//     WAL files, not a pointer per thread: a connection may be closed on
//     another thread than the one that wrote.)
// A failed write of kept bytes is reported by the call that made it (a
// write or a sync, which fails the transaction: SQLite then ignores its
// frames); one made by a barrier, which cannot report, by the next write
// or sync of that file.
#include "csqlite_wal_buffer.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define WB_NAME "trustpay-wal-buffer"
#define WB_LIMIT (4 << 20)
#define WB_FIRST_CAPACITY (256 << 10)
#define WB_FRAME_HEADER 24

typedef struct WBFile {
    sqlite3_file base;
    sqlite3_file *real;  // the default VFS's file, right after this struct
    unsigned char *buffer;
    int length;
    int capacity;
    sqlite3_int64 start;  // the file offset of buffer[0]
    int commitPageNext;   // a commit frame's header is kept: flush after its page
    int deferredError;    // a barrier's flush failed: the next write or sync says so
    pthread_t writer;     // the thread of the last kept write
    struct WBFile *next;  // open WAL files (wb_wals)
    unsigned long long fileWrites;  // writes that reached the default VFS
    unsigned long long frames;      // frame headers given by SQLite
} WBFile;

static sqlite3_vfs *wb_base;
static sqlite3_vfs wb_vfs;
static pthread_mutex_t wb_wals_lock = PTHREAD_MUTEX_INITIALIZER;
static WBFile *wb_wals;

static sqlite3_file *real(sqlite3_file *file) { return ((WBFile *)file)->real; }

// The unix VFS writes at most 128 KiB - 1 bytes per call (it masks the
// length: a larger write comes back as "disk full"), so kept bytes go in
// pieces of 64 KiB.
#define WB_PIECE (64 << 10)

static int wb_flush(WBFile *f) {
    if (f->length == 0) return SQLITE_OK;
    int length = f->length;
    // Emptied whatever the outcome: after a failed write SQLite abandons the
    // transaction, whose frames it never reads back.
    f->length = 0;
    f->commitPageNext = 0;
    for (int done = 0; done < length; done += WB_PIECE) {
        int piece = length - done < WB_PIECE ? length - done : WB_PIECE;
        f->fileWrites += 1;
        int rc = f->real->pMethods->xWrite(f->real, f->buffer + done, piece, f->start + done);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

static int wb_take_error(WBFile *f) {
    int error = f->deferredError;
    f->deferredError = SQLITE_OK;
    return error;
}

// MARK: the WAL file

static int wb_wal_close(sqlite3_file *file) {
    WBFile *f = (WBFile *)file;
    // Out of the registry first: once it is, no barrier (of a thread that
    // wrote to it last, if the connection was moved) can touch it.
    pthread_mutex_lock(&wb_wals_lock);
    for (WBFile **link = &wb_wals; *link != NULL; link = &(*link)->next) {
        if (*link == f) {
            *link = f->next;
            break;
        }
    }
    pthread_mutex_unlock(&wb_wals_lock);
    int rc = wb_flush(f);
    free(f->buffer);
    f->buffer = NULL;
    int closed = f->real->pMethods->xClose(f->real);
    return rc != SQLITE_OK ? rc : closed;
}

static int wb_wal_read(sqlite3_file *file, void *data, int amount, sqlite3_int64 offset) {
    int rc = wb_flush((WBFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xRead(real(file), data, amount, offset);
}

static int wb_write_through(WBFile *f, const void *data, int amount, sqlite3_int64 offset) {
    f->fileWrites += 1;
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
}

static int wb_wal_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    WBFile *f = (WBFile *)file;
    int rc = wb_take_error(f);
    if (rc != SQLITE_OK) return rc;
    int isHeader = amount == WB_FRAME_HEADER;
    if (isHeader) f->frames += 1;
    if (f->length > 0 && (offset != f->start + f->length || amount > WB_LIMIT - f->length)) {
        if ((rc = wb_flush(f)) != SQLITE_OK) return rc;
    }
    if (amount > WB_PIECE) return wb_write_through(f, data, amount, offset);
    if (f->length + amount > f->capacity) {
        int capacity = f->capacity ? f->capacity : WB_FIRST_CAPACITY;
        while (capacity < f->length + amount) capacity *= 2;
        if (capacity > WB_LIMIT) capacity = WB_LIMIT;
        unsigned char *grown = realloc(f->buffer, (size_t)capacity);
        if (grown == NULL) {
            // No memory to gather in: write as SQLite asked.
            if ((rc = wb_flush(f)) != SQLITE_OK) return rc;
            return wb_write_through(f, data, amount, offset);
        }
        f->buffer = grown;
        f->capacity = capacity;
    }
    if (f->length == 0) f->start = offset;
    memcpy(f->buffer + f->length, data, (size_t)amount);
    f->length += amount;
    // Read by barriers on other threads (which flush only their own writes).
    __atomic_store_n(&f->writer, pthread_self(), __ATOMIC_RELAXED);
    if (f->commitPageNext && !isHeader) return wb_flush(f);
    if (isHeader) {
        const unsigned char *header = data;
        f->commitPageNext = (header[4] | header[5] | header[6] | header[7]) != 0;
    }
    return SQLITE_OK;
}

static int wb_wal_truncate(sqlite3_file *file, sqlite3_int64 size) {
    int rc = wb_flush((WBFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xTruncate(real(file), size);
}

static int wb_wal_sync(sqlite3_file *file, int flags) {
    WBFile *f = (WBFile *)file;
    int rc = wb_take_error(f);
    if (rc == SQLITE_OK) rc = wb_flush(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

static int wb_wal_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    int rc = wb_flush((WBFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xFileSize(real(file), size);
}

static int wb_wal_file_control(sqlite3_file *file, int op, void *argument) {
    int rc = wb_flush((WBFile *)file);
    if (rc != SQLITE_OK) return rc;
    return real(file)->pMethods->xFileControl(real(file), op, argument);
}

// MARK: every file (the WAL's other methods, and databases and journals)

static int wb_close(sqlite3_file *file) { return real(file)->pMethods->xClose(real(file)); }
static int wb_read(sqlite3_file *file, void *data, int amount, sqlite3_int64 offset) {
    return real(file)->pMethods->xRead(real(file), data, amount, offset);
}
static int wb_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    return real(file)->pMethods->xWrite(real(file), data, amount, offset);
}
static int wb_truncate(sqlite3_file *file, sqlite3_int64 size) {
    return real(file)->pMethods->xTruncate(real(file), size);
}
static int wb_sync(sqlite3_file *file, int flags) { return real(file)->pMethods->xSync(real(file), flags); }
static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    return real(file)->pMethods->xFileSize(real(file), size);
}
static int wb_lock(sqlite3_file *file, int lock) { return real(file)->pMethods->xLock(real(file), lock); }
static int wb_unlock(sqlite3_file *file, int lock) { return real(file)->pMethods->xUnlock(real(file), lock); }
static int wb_check_reserved_lock(sqlite3_file *file, int *reserved) {
    return real(file)->pMethods->xCheckReservedLock(real(file), reserved);
}
static int wb_file_control(sqlite3_file *file, int op, void *argument) {
    return real(file)->pMethods->xFileControl(real(file), op, argument);
}
static int wb_sector_size(sqlite3_file *file) { return real(file)->pMethods->xSectorSize(real(file)); }
static int wb_device_characteristics(sqlite3_file *file) {
    return real(file)->pMethods->xDeviceCharacteristics(real(file));
}
static int wb_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **mapped) {
    return real(file)->pMethods->xShmMap(real(file), page, size, extend, mapped);
}
static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    return real(file)->pMethods->xShmLock(real(file), offset, n, flags);
}
static void wb_shm_barrier(sqlite3_file *file) {
    pthread_t self = pthread_self();
    pthread_mutex_lock(&wb_wals_lock);
    for (WBFile *wal = wb_wals; wal != NULL; wal = wal->next) {
        // Only this thread changes a file whose last kept write it made.
        if (pthread_equal(__atomic_load_n(&wal->writer, __ATOMIC_RELAXED), self) && wal->length > 0) {
            int rc = wb_flush(wal);
            if (rc != SQLITE_OK) wal->deferredError = rc;
        }
    }
    pthread_mutex_unlock(&wb_wals_lock);
    real(file)->pMethods->xShmBarrier(real(file));
}
static int wb_shm_unmap(sqlite3_file *file, int deleteFlag) {
    return real(file)->pMethods->xShmUnmap(real(file), deleteFlag);
}
static int wb_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **pointer) {
    return real(file)->pMethods->xFetch(real(file), offset, amount, pointer);
}
static int wb_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *pointer) {
    return real(file)->pMethods->xUnfetch(real(file), offset, pointer);
}

#define WB_METHODS(close, read, write, truncate, sync, fileSize, fileControl) \
    { 3, close, read, write, truncate, sync, fileSize, wb_lock, wb_unlock, wb_check_reserved_lock, fileControl, \
      wb_sector_size, wb_device_characteristics, wb_shm_map, wb_shm_lock, wb_shm_barrier, wb_shm_unmap, wb_fetch, \
      wb_unfetch }

static const sqlite3_io_methods wb_wal_methods = WB_METHODS(
    wb_wal_close, wb_wal_read, wb_wal_write, wb_wal_truncate, wb_wal_sync, wb_wal_file_size, wb_wal_file_control);
static const sqlite3_io_methods wb_methods = WB_METHODS(
    wb_close, wb_read, wb_write, wb_truncate, wb_sync, wb_file_size, wb_file_control);

// MARK: the VFS: the default one's, with files wrapped

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    WBFile *f = (WBFile *)file;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)&f[1];
    int rc = wb_base->xOpen(wb_base, name, f->real, flags, outFlags);
    // Methods of the iVersion this file was built for (3: shared memory and
    // memory mapping), or none when the open failed (SQLite then closes nothing).
    if (f->real->pMethods == NULL || f->real->pMethods->iVersion < 3) {
        if (f->real->pMethods != NULL) f->real->pMethods->xClose(f->real);
        f->base.pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    int isWAL = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = isWAL ? &wb_wal_methods : &wb_methods;
    if (isWAL) {
        pthread_mutex_lock(&wb_wals_lock);
        f->next = wb_wals;
        wb_wals = f;
        pthread_mutex_unlock(&wb_wals_lock);
    }
    return rc;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return wb_base->xDelete(wb_base, name, syncDirectory);
}
static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return wb_base->xAccess(wb_base, name, flags, result);
}
static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return wb_base->xFullPathname(wb_base, name, size, out);
}
static void *wb_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return wb_base->xDlOpen(wb_base, name);
}
static void wb_dl_error(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    wb_base->xDlError(wb_base, size, message);
}
static void (*wb_dl_sym(sqlite3_vfs *vfs, void *library, const char *symbol))(void) {
    (void)vfs;
    return wb_base->xDlSym(wb_base, library, symbol);
}
static void wb_dl_close(sqlite3_vfs *vfs, void *library) {
    (void)vfs;
    wb_base->xDlClose(wb_base, library);
}
static int wb_randomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return wb_base->xRandomness(wb_base, size, out);
}
static int wb_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return wb_base->xSleep(wb_base, microseconds);
}
static int wb_current_time(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return wb_base->xCurrentTime(wb_base, now);
}
static int wb_get_last_error(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return wb_base->xGetLastError(wb_base, size, out);
}
static int wb_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return wb_base->xCurrentTimeInt64(wb_base, now);
}

static pthread_once_t wb_once = PTHREAD_ONCE_INIT;
static int wb_registered;

static void wb_register(void) {
    if (sqlite3_initialize() != SQLITE_OK) return;
    wb_base = sqlite3_vfs_find(NULL);
    if (wb_base == NULL || wb_base->iVersion < 2) return;
    wb_vfs.iVersion = 2;
    wb_vfs.szOsFile = (int)sizeof(WBFile) + wb_base->szOsFile;
    wb_vfs.mxPathname = wb_base->mxPathname;
    wb_vfs.zName = WB_NAME;
    wb_vfs.xOpen = wb_open;
    wb_vfs.xDelete = wb_delete;
    wb_vfs.xAccess = wb_access;
    wb_vfs.xFullPathname = wb_full_pathname;
    wb_vfs.xDlOpen = wb_dl_open;
    wb_vfs.xDlError = wb_dl_error;
    wb_vfs.xDlSym = wb_dl_sym;
    wb_vfs.xDlClose = wb_dl_close;
    wb_vfs.xRandomness = wb_randomness;
    wb_vfs.xSleep = wb_sleep;
    wb_vfs.xCurrentTime = wb_current_time;
    wb_vfs.xGetLastError = wb_get_last_error;
    wb_vfs.xCurrentTimeInt64 = wb_current_time_int64;
    wb_registered = sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK;
}

const char *csqlite_wal_buffer_vfs(void) {
    pthread_once(&wb_once, wb_register);
    return wb_registered ? WB_NAME : NULL;
}

int csqlite_wal_buffer_statistics(sqlite3 *db, unsigned long long *fileWrites, unsigned long long *frames) {
    sqlite3_file *wal = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || wal == NULL
        || wal->pMethods != &wb_wal_methods) {
        return 0;
    }
    *fileWrites = ((WBFile *)wal)->fileWrites;
    *frames = ((WBFile *)wal)->frames;
    return 1;
}
