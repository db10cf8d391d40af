#ifndef CSQLITE_WAL_BUFFER_H
#define CSQLITE_WAL_BUFFER_H
#include <sqlite3.h>

// A VFS for a connection that writes: the default (unix) VFS, except that
// a transaction's WAL frames reach the file in one write instead of two
// per page. See wal_buffer.c.

// Registers the VFS (once, thread-safe) and returns its name for
// sqlite3_open_v2, or NULL if it could not be registered.
const char *csqlite_wal_buffer_vfs(void);

// For the WAL of `db`'s main database, if it is open through this VFS
// (returns 1, else 0): the writes that reached the file and the frames
// SQLite wrote, since it was opened. Call on the connection's own thread.
int csqlite_wal_buffer_statistics(sqlite3 *db, unsigned long long *fileWrites, unsigned long long *frames);

#endif
