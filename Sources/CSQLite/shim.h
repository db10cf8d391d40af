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

// sqlite3_config and sqlite3_db_config are variadic, which Swift cannot
// call. Without memory statistics SQLite's allocator skips a process-wide
// mutex and its counters on every allocation; only works before SQLite
// initializes (SQLITE_MISUSE after).
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
