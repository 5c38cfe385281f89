#ifndef KAFKA_ONCE_CSQLITE_H
#define KAFKA_ONCE_CSQLITE_H

#include <sqlite3.h>

#endif
