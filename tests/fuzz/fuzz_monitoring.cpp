// libFuzzer target: the monitoring services' decoders (issue #23): Prometheus's query_range answer, Alertmanager's
// alert groups and silences; and the incident bundle reader (issue #24: a file from anywhere). Nothing may crash;
// what comes out stays within its bounds: series, points, labels and texts counted and cut, times inside the range
// asked, a silence id one a URL path can carry; a bundle's ids, block lengths and values in their bounds, and what
// it decodes to written again reads back the same. Run by scripts/fuzz (one target for both: a fifth would add a
// third round to CI's fuzzing on two cores).

#include "alertmanager.h"
#include "clientconfig.h"
#include "incidentbundle.h"
#include "prometheus.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

using namespace fleet;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    // The range asked: an hour at 15 s, ending at 2026-12-05 00:00 UTC (the seeds' points fall in it).
    const qint64 to = 1796428800;
    const qint64 from = to - 3600;
    if (const auto m = PrometheusClient::decodeMatrix(body, from, to, 15); m.ok()) {
        check(m->series.size() <= std::size_t(PrometheusClient::kMaxSeries));
        check(m->warnings.size() <= PrometheusClient::kMaxWarnings);
        for (const PromSeries &s : m->series) {
            check(s.points.size() <= std::size_t(PrometheusClient::kMaxPointsPerSeries));
            check(s.labels.size() <= 64);
            for (auto it = s.labels.cbegin(); it != s.labels.cend(); ++it)
                check(it.key().size() <= PrometheusClient::kMaxLabelText + 3
                    && it.value().size() <= PrometheusClient::kMaxLabelText + 3);
            for (const auto &[t, v] : s.points) {
                check(t >= from - 15 && t <= to + 15); // seconds; a step's slack either side
                check(std::isfinite(v) || std::isnan(v)); // infinities are gaps (NaN), never values
            }
        }
    }
    if (const auto alerts = AlertmanagerClient::decodeAlertGroups(body); alerts.ok()) {
        check(alerts->size() <= AlertmanagerClient::kMaxAlerts);
        for (const AmAlert &a : *alerts) {
            check(a.labels.size() <= AlertmanagerClient::kMaxLabels);
            for (auto it = a.labels.cbegin(); it != a.labels.cend(); ++it)
                check(it.value().size() <= AlertmanagerClient::kMaxText);
            check(a.silencedBy.size() <= 100 && a.inhibitedBy.size() <= 100);
        }
    }
    if (const auto silences = AlertmanagerClient::decodeSilences(body); silences.ok()) {
        check(silences->size() <= AlertmanagerClient::kMaxSilences);
        for (const AmSilence &s : *silences) {
            check(idProblem(s.id, QStringLiteral("silence")).isEmpty());
            check(s.matchers.size() <= AlertmanagerClient::kMaxLabels);
            check(s.comment.size() <= AlertmanagerClient::kMaxText + 3);
        }
    }
    if (const auto b = bundle::decode(body, QStringLiteral("fuzz")); b.ok()) {
        check(b->header.regions.size() <= bundle::kMaxRegions);
        for (const Region &r : b->header.regions)
            check(idProblem(r.id, QStringLiteral("region")).isEmpty());
        for (const bundle::Samples &s : b->samples) {
            check(s.seconds() <= bundle::kMaxBlockSeconds);
            for (const auto &column : s.columns) {
                check(int(column.size()) == s.seconds());
                for (const float v : column)
                    check(std::isnan(v) || (v >= 0 && v <= 1e9f));
            }
        }
        QByteArray again = bundle::encodeHeader(b->header) + '\n';
        for (const bundle::Event &e : b->events) {
            check(e.atMs > 0);
            again += bundle::encodeEvent(e) + '\n';
        }
        for (const bundle::Samples &s : b->samples)
            again += bundle::encodeSamples(s) + '\n';
        const auto back = bundle::decode(again, QStringLiteral("again"));
        check(back.ok());
        check(back->events.size() == b->events.size() && back->samples.size() == b->samples.size());
        for (qsizetype i = 0; i < b->events.size(); ++i)
            check(bundle::encodeEvent(back->events[i]) == bundle::encodeEvent(b->events[i]));
    }
    return 0;
}
