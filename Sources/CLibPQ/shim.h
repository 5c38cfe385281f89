#ifndef KAFKA_ONCE_CLIBPQ_H
#define KAFKA_ONCE_CLIBPQ_H

#include <libpq-fe.h>

#endif
