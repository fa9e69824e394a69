#include "historyloader.h"

#include "fleetstore.h"

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcModels)

namespace fleet {

namespace {

constexpr int kParallel = 2;

} // namespace

HistoryLoader::HistoryLoader(FleetStore *store, std::unique_ptr<HistorySource> source, int hours, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_source(std::move(source))
    , m_hours(hours)
{
    auto planToNow = [this] {
        if (m_store && m_store->serverTime() > 0)
            plan(m_store->serverTime() / 1000);
    };
    // From the regions preview on (the charts fill while the snapshot is still on the way); the snapshot adds what
    // passed in between.
    connect(store, &FleetStore::regionsPreviewApplied, this, planToNow);
    connect(store, &FleetStore::snapshotApplied, this, planToNow);
}

void HistoryLoader::plan(qint64 untilSecond)
{
    const qint64 windowStart = untilSecond - qint64(m_hours) * 3600 + 1;
    const qint64 from = std::max(windowStart, m_loadedUntil);
    if (untilSecond <= from)
        return;
    m_loadedUntil = untilSecond + 1;
    // Newest first: what an engineer looks at first is the last hour.
    const qint64 chunkSeconds = std::max(1, m_source->maxPointsPerRequest()); // one-second steps
    for (qint64 end = untilSecond + 1; end > from; end -= chunkSeconds) {
        for (const Region &r : m_store->regions())
            m_queue.push_back({ r.id, std::max(from, end - chunkSeconds), end });
    }
    m_total += int(m_queue.size());
    pump();
}

void HistoryLoader::pump()
{
    while (m_inFlight < kParallel && !m_queue.empty() && m_source && m_store) {
        const Chunk chunk = m_queue.front();
        m_queue.pop_front();
        ++m_inFlight;
        m_source->fetch(
            chunk.region, chunk.fromSecond, chunk.toSecond, 1, this, [this, chunk](ApiResult<HealthHistory> result) {
                --m_inFlight;
                ++m_done;
                if (result.ok() && m_store) {
                    for (const HealthSample &s : result->buckets)
                        m_store->history().record(chunk.region, s);
                } else {
                    ++m_failures;
                    qCWarning(lcModels).noquote() << "health backfill of" << chunk.region << "from" << m_source->name()
                                                  << "failed:" << result.error().message;
                }
                updateNote();
                Q_EMIT progress(m_done, m_total);
                if (isIdle()) {
                    if (m_store)
                        m_store->markHealthChanged();
                    Q_EMIT finished();
                } else {
                    pump();
                }
            });
    }
}

void HistoryLoader::updateNote()
{
    QString note = m_source ? m_source->note() : QString();
    if (!m_edgeNote.isEmpty())
        note += (note.isEmpty() ? QString() : QStringLiteral(" ")) + m_edgeNote;
    if (note != m_note) {
        m_note = note;
        Q_EMIT noteChanged(m_note);
    }
}

void HistoryLoader::fillLiveEdge(qint64 untilSecond, const QString &why)
{
    if (!m_store)
        return;
    m_edgeNote = why;
    updateNote();
    // From the newest second the timeline has (live events and earlier fills), not from the last snapshot: the
    // seconds the stream delivered stay the stream's.
    m_loadedUntil = std::max(m_loadedUntil, m_store->history().latestSecond() + 1);
    if (isIdle())
        plan(untilSecond);
}

void HistoryLoader::endLiveEdge()
{
    if (m_edgeNote.isEmpty())
        return;
    m_edgeNote.clear();
    updateNote();
}

} // namespace fleet
