#pragma once

#include "historysource.h"

#include <QObject>
#include <QPointer>

#include <deque>
#include <memory>

namespace fleet {

class FleetStore;

// Backfills the store's health timeline from a HistorySource (the Fleet API's GET /v1/regions/{id}/health today) so
// that a console opened mid-incident shows the past hours at once. After every snapshot it fetches, per region, what
// the timeline lacks between (now - hours) and the snapshot's time, at one-second resolution, in chunks the source
// accepts (maxPointsPerRequest), newest first, two requests at a time. Live health events fill the rest; gaps the
// server has no data for stay gaps.
class HistoryLoader : public QObject
{
    Q_OBJECT

public:
    HistoryLoader(FleetStore *store, std::unique_ptr<HistorySource> source, int hours = 24, QObject *parent = nullptr);
    const HistorySource *source() const { return m_source.get(); }

    bool isIdle() const { return m_queue.empty() && m_inFlight == 0; }
    int failures() const { return m_failures; }
    QString note() const { return m_note; } // the source's words on where history comes from (HistorySource::note)

    // The live edge from the source while the Fleet API's stream is down (issue #23: Prometheus keeps scraping the
    // fleet): fetches what the timeline lacks after its newest second, up to `untilSecond`, and says why in the
    // note (`why`; an empty `why` ends it and clears that part of the note).
    void fillLiveEdge(qint64 untilSecond, const QString &why);
    // What the timeline lacks of the window ending at `untilSecond` (done by itself after every snapshot; the
    // session asks when the source changed under a connection).
    void backfill(qint64 untilSecond) { plan(untilSecond); }
    void endLiveEdge();
    bool isFillingLiveEdge() const { return !m_edgeNote.isEmpty(); }

Q_SIGNALS:
    void finished(); // every queued chunk answered
    void progress(int done, int total);
    void noteChanged(const QString &note);

private:
    struct Chunk
    {
        QString region;
        qint64 fromSecond;
        qint64 toSecond; // exclusive
    };
    void plan(qint64 untilSecond);
    void pump();
    void updateNote();

    QPointer<FleetStore> m_store;
    std::unique_ptr<HistorySource> m_source;
    int m_hours;
    std::deque<Chunk> m_queue;
    int m_inFlight = 0;
    int m_done = 0;
    int m_total = 0;
    int m_failures = 0;
    qint64 m_loadedUntil = 0; // seconds before this were already planned
    QString m_note;
    QString m_edgeNote; // why the live edge comes from the source now; empty when it does not
};

} // namespace fleet
