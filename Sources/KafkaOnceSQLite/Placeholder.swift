import KafkaOnce
