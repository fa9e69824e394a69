#pragma once

#include "prometheus.h"

#include <QString>

namespace fleet::ctl {

struct HistoryOptions
{
    PrometheusConfig prometheus;
    QString region;
    qint64 rangeSeconds = 3600;
    int columns = 1920; // the plot width the step is chosen for
    int scrapeSeconds = 15;
    QString queriesFile; // empty: the defaults for fleet-sim's /metrics
    bool json = false;
    int timeoutSeconds = 60;
};

// fleetctl history --prometheus URL --region R --range DURATION: the series the console's charts would draw, from
// the fleet's own Prometheus (docs/fleetctl.md). Exit 0 with the samples, 2 bad usage, 5 Prometheus unreachable or
// no answer, 3 Prometheus refused the query (400/422) or the credentials.
int runHistory(const HistoryOptions &options);

} // namespace fleet::ctl
