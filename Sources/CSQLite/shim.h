#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H
// The system SQLite 3 (libsqlite3-dev), plus what Swift cannot call itself.
#include <sqlite3.h>

// SQLITE_TRANSIENT is the function pointer -1, a macro Swift does not
// import. This bind makes SQLite copy the bytes before it returns, so the
// Swift buffer only has to live for the call.
static inline int csqlite_bind_text_copy(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

#endif
