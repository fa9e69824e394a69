#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QPair>

namespace fleet::sim {

class Simulation;

// One metric family of the fleet's /metrics: its name, type and help, and its samples ("name{labels}", value).
struct MetricFamily
{
    QByteArray name;
    QByteArray type; // "gauge" or "counter"
    QByteArray help;
    QList<QPair<QByteArray, QByteArray>> samples;
};

// What fleet-sim's GET /metrics serves: the fleet's gauges and counters per region (labels escaped).
QList<MetricFamily> fleetMetrics(const Simulation &sim, int streamClients);
// As Prometheus's text format 0.0.4 (the /metrics body).
QByteArray prometheusText(const QList<MetricFamily> &families);

// The same samples at many times, as OpenMetrics for `promtool tsdb create-blocks-from openmetrics` (issue #23): a
// test's or a demo's Prometheus then holds the scenario's past hours, stamped on the wall clock. Samples are grouped
// per family (OpenMetrics forbids interleaving families), in time order within a family; counters are declared by
// their family name without "_total", as OpenMetrics wants.
class OpenMetricsWriter
{
public:
    void add(const QList<MetricFamily> &families, qint64 unixSeconds);
    QByteArray finish() const; // the whole file, "# EOF" last
    qint64 samples() const { return m_samples; }

private:
    QList<QByteArray> m_order; // family names, first seen first
    QHash<QByteArray, QByteArray> m_headers;
    QHash<QByteArray, QByteArray> m_bodies;
    qint64 m_samples = 0;
};

} // namespace fleet::sim
