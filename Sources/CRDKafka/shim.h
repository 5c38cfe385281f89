#ifndef KAFKA_ONCE_CRDKAFKA_H
#define KAFKA_ONCE_CRDKAFKA_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#endif
