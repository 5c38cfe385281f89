print("kafka-once")
