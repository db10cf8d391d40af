#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H
// The system SQLite 3 (libsqlite3-dev), plus what Swift cannot call itself.
#include <sqlite3.h>

// SQLITE_TRANSIENT is the function pointer -1, a macro Swift does not
// import. These binds make SQLite copy the bytes before they return, so the
// Swift buffer only has to live for the call.
static inline int csqlite_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

static inline int csqlite_bind_blob_copy(sqlite3_stmt *statement, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(statement, index, bytes, length, SQLITE_TRANSIENT);
}

#endif
