#ifndef KAFKA_ONCE_SHIM_H
#define KAFKA_ONCE_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>
#include <stdint.h>

/// Enqueues one message through the variadic `rd_kafka_producev`.
///
/// `headers` may be NULL; when it is not, librdkafka takes ownership of it on success only,
/// so the caller destroys it when an error is returned.
rd_kafka_resp_err_t kafka_once_produce(rd_kafka_t *rk,
                                       const char *topic,
                                       int32_t partition,
                                       const void *key,
                                       size_t key_size,
                                       const void *value,
                                       size_t value_size,
                                       rd_kafka_headers_t *headers,
                                       int64_t timestamp_ms,
                                       void *opaque);

/// Pushes `count` (error, round-trip time) pairs onto one mock broker's error stack for `api_key`,
/// in order, through the variadic `rd_kafka_mock_broker_push_request_error_rtts`.
rd_kafka_resp_err_t kafka_once_mock_push_error_rtts(rd_kafka_mock_cluster_t *cluster,
                                                    int32_t broker_id,
                                                    int16_t api_key,
                                                    size_t count,
                                                    const rd_kafka_resp_err_t *errors,
                                                    const int *rtts_ms);

/// Names the calling thread for the system (`top -H`, `perf`, debuggers), with the first 15 bytes
/// of `name`; does nothing where the system has no such call.
void kafka_once_name_current_thread(const char *name);

#endif
