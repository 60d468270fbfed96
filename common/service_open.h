/* Start-up and close shared by the services that use PostgreSQL (claimer, committer). */
#ifndef WF4_SERVICE_OPEN_H
#define WF4_SERVICE_OPEN_H

#include <librdkafka/rdkafka.h>

#include "db.h"
#include "service.h"
#include "wire.h"

typedef struct service_open_spec {
    const char *name;   /* "claimer": application_name and client.id wf4-<name>/<instance> */
    wire_schema schema; /* what the service produces, registered under topic */
    const char *topic;
    void (*dr_cb)(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);
    void *dr_opaque; /* the producer's opaque, given to dr_cb */
} service_open_spec;

/* What every such service holds: its connection, its schemas, its producer. */
typedef struct service_handles {
    char app[160]; /* wf4-<name>/<instance> */
    db *d;
    wire *w;
    rd_kafka_t *producer;
} service_handles;

/* The connection settings of b (timeouts, deadline, keepalives) for url, as application app. */
db_settings service_db_settings(const service_base *b, const char *url, const char *app);

/* Connects to PostgreSQL, loads and registers the schema, creates the idempotent producer
 * and checks that Kafka answers; each failure is logged naming the setting to look at.
 * Returns 0, or -1 (what was opened is released by service_close). */
int service_open(const service_base *b, const service_open_spec *o, service_handles *h);

/* Drains and destroys the producer, frees the schemas, closes the connection. */
void service_close(service_handles *h);

#endif
