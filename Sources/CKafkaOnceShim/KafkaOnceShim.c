#if defined(__linux__)
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#endif

#include "KafkaOnceShim.h"

rd_kafka_resp_err_t kafka_once_produce(rd_kafka_t *rk,
                                       const char *topic,
                                       int32_t partition,
                                       const void *key,
                                       size_t key_size,
                                       const void *value,
                                       size_t value_size,
                                       rd_kafka_headers_t *headers,
                                       int64_t timestamp_ms,
                                       void *opaque) {
    // A header list is handed over only when there is one, so librdkafka never owns a NULL list.
    if (headers == NULL) {
        return rd_kafka_producev(rk,
                                 RD_KAFKA_V_TOPIC(topic),
                                 RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY(key, key_size),
                                 RD_KAFKA_V_VALUE((void *)value, value_size),
                                 RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                                 RD_KAFKA_V_OPAQUE(opaque),
                                 RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, key_size),
                             RD_KAFKA_V_VALUE((void *)value, value_size),
                             RD_KAFKA_V_HEADERS(headers),
                             RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}

rd_kafka_resp_err_t kafka_once_mock_push_error_rtts(rd_kafka_mock_cluster_t *cluster,
                                                    int32_t broker_id,
                                                    int16_t api_key,
                                                    size_t count,
                                                    const rd_kafka_resp_err_t *errors,
                                                    const int *rtts_ms) {
    // One pair per call keeps the order of the arrays: each call appends to the broker's stack.
    for (size_t i = 0; i < count; i++) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_broker_push_request_error_rtts(cluster, broker_id, api_key, 1, errors[i], rtts_ms[i]);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return err;
        }
    }
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void kafka_once_name_current_thread(const char *name) {
#if defined(__linux__)
    // Linux refuses names of more than 15 bytes (ERANGE) rather than cutting them.
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    pthread_setname_np(pthread_self(), truncated);
#else
    (void)name;
#endif
}
