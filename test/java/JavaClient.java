// The Java Kafka client, for tests that need a client other than kafkajs: it writes snappy in
// snappy-java's framing and lz4 and zstd through Kafka's own stream classes. Run with the broker's
// jars (scripts/kafka resolves them; the classes used are those of Kafka 4.4), as a single-file source program:
//
//   java -cp '<kafka libs>/*' test/java/JavaClient.java produce BOOTSTRAP TOPIC CODEC COUNT PREFIX
//     COUNT records in one batch compressed with CODEC; value = stdin line i (cycled), key
//     PREFIX-i, header source=java-CODEC
//   java -cp ... test/java/JavaClient.java consume BOOTSTRAP TOPIC COUNT
//     prints COUNT records (read_committed, from the start) as tab-separated lines:
//     key, value, header names and values joined with ',' (name=value)
//   java -cp ... test/java/JavaClient.java fixtures DIR
//     compresses DIR/payload.txt with each codec as the Java client does, into DIR/payload.CODEC
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.internals.ByteBufferOutputStream;

public class JavaClient {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "produce" -> produce(args[1], args[2], args[3], Integer.parseInt(args[4]), args[5]);
      case "consume" -> consume(args[1], args[2], Integer.parseInt(args[3]));
      case "fixtures" -> fixtures(Path.of(args[1]));
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  static List<String> stdinLines() throws Exception {
    List<String> lines = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) lines.add(line);
    return lines;
  }

  static void produce(String bootstrap, String topic, String codec, int count, String prefix)
      throws Exception {
    List<String> values = stdinLines();
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("compression.type", codec);
    // One batch for all: a long linger and a batch size larger than the records.
    props.put("linger.ms", "60000");
    props.put("batch.size", "1048576");
    props.put("acks", "all");
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < count; i++) {
        ProducerRecord<String, String> record =
            new ProducerRecord<>(topic, 0, prefix + "-" + i, values.get(i % values.size()));
        record.headers().add("source", ("java-" + codec).getBytes(StandardCharsets.UTF_8));
        producer.send(record);
      }
      producer.flush();
    }
  }

  static void consume(String bootstrap, String topic, int count) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", topic + "-java-reader");
    props.put("auto.offset.reset", "earliest");
    props.put("isolation.level", "read_committed");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 60_000;
      int seen = 0;
      while (seen < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          List<String> headers = new ArrayList<>();
          for (Header h : r.headers()) {
            headers.add(h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8));
          }
          System.out.println(r.key() + "\t" + r.value() + "\t" + String.join(",", headers));
          seen++;
        }
      }
    }
  }

  static void fixtures(Path dir) throws Exception {
    byte[] payload = Files.readAllBytes(dir.resolve("payload.txt"));
    for (String codec : List.of("snappy", "lz4", "zstd")) {
      ByteBufferOutputStream buffer = new ByteBufferOutputStream(1024);
      Compression compression = Compression.of(codec).build();
      try (OutputStream out = compression.wrapForOutput(buffer, RecordBatch.CURRENT_MAGIC_VALUE)) {
        out.write(payload);
      }
      ByteBuffer bytes = buffer.buffer();
      bytes.flip();
      byte[] written = new byte[bytes.remaining()];
      bytes.get(written);
      Files.write(dir.resolve("payload." + codec), written);
    }
    // librdkafka's form of snappy: one raw block, no framing.
    Files.write(dir.resolve("payload.snappy-raw"), org.xerial.snappy.Snappy.compress(payload));
  }
}
