// Silences that belong to a mitigation (issue #23), against a real Alertmanager (Debian's prometheus-alertmanager,
// skipped by name where it is not installed) and fleet-sim over loopback: a drain carries its silence (created once
// the fleet accepted the drain, its comment naming the operation and the reason, ending at the drain's expiry plus
// the margin), the silence is followed when Alertmanager gives it a new id on an edit, expired when the region is
// resumed, never created for an action the fleet refused, recorded in the local audit log and followed again by a
// restarted console.

#include "actioncontroller.h"
#include "fleetaction.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "incidenttimeline.h"
#include "isotime.h"
#include "localstore.h"
#include "mitigationsilences.h"
#include "realalertmanager.h"
#include "simharness.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace fleet;

namespace {

struct Console
{
    Console(SimHarness &sim, const QString &store, const QUrl &alertmanager)
    {
        session.openLocalStore(store);
        AlertmanagerConfig config;
        config.url = alertmanager;
        session.setAlertmanager(config, 1);
        session.connectTo(sim.profile(), QStringLiteral("op-secret"));
    }
    bool ready() const { return session.isLive() && session.identity().has_value() && session.store()->isLoaded(); }
    ActionController::Phase phase(int handle) const
    {
        const auto *t = session.actions()->find(handle);
        return t ? t->phase : ActionController::Phase::Abandoned;
    }
    const MitigationSilences::Silence *silence(int i = 0) const
    {
        const auto &all = session.silences()->silences();
        return i < all.size() ? &all.at(i) : nullptr;
    }
    MitigationSilences::State state(int i = 0) const
    {
        const auto *s = silence(i);
        return s ? s->state : MitigationSilences::State::Waiting;
    }
    QString text(int i = 0) const
    {
        const auto *s = silence(i);
        return s ? MitigationSilences::describe(*s, QDateTime::currentMSecsSinceEpoch()) : QStringLiteral("(none)");
    }
    FleetSession session;
};

int silencesWithRegion(const QJsonArray &all, const QString &region)
{
    int n = 0;
    for (const QJsonValue &s : all)
        for (const QJsonValue &m : s[QLatin1String("matchers")].toArray())
            n += m[QLatin1String("name")].toString() == QLatin1String("region")
                && m[QLatin1String("value")].toString() == region;
    return n;
}

} // namespace

class TestSilences : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void endsAtTheActionsExpiryPlusTheMargin()
    {
        const qint64 fleetNow = 1'000'000'000'000;
        const qint64 wallNow = 2'000'000'000'000;
        const FleetAction drain
            = FleetAction::drainRegion(QStringLiteral("eu-west"), QStringLiteral("loss"), fleetNow + 3600'000);
        QCOMPARE(
            MitigationSilences::endFor(drain, fleetNow, wallNow), wallNow + 3600'000 + MitigationSilences::kMarginMs);
        const FleetAction forever = FleetAction::drainRegion(QStringLiteral("eu-west"), QStringLiteral("loss"));
        QCOMPARE(
            MitigationSilences::endFor(forever, fleetNow, wallNow), wallNow + MitigationSilences::kDefaultLengthMs);
        QVERIFY(MitigationSilences::canCarrySilence(drain.kind));
        QVERIFY(!MitigationSilences::canCarrySilence(FleetAction::Kind::DrainWorker));
        QVERIFY(MitigationSilences::endText(drain, fleetNow, wallNow).contains(QLatin1String("expiry + 15 min")));
    }

    // The whole life of a mitigation's silence against the real thing.
    void aDrainCarriesItsSilenceUntilTheRegionIsResumed()
    {
        RealAlertmanager am;
        if (!am.installed())
            QSKIP("prometheus-alertmanager is not installed (scripts/install-deps installs Debian's)");
        QTRY_VERIFY2_WITH_TIMEOUT(am.ready(), qPrintable(am.output()), 20000);
        QTemporaryDir dir;
        const QString store = dir.filePath(QStringLiteral("console.sqlite"));
        SimHarness sim;
        sim.advance(1800); // builds running in us-west
        QString silenceId;
        QString operation;
        {
            Console c(sim, store, am.url());
            QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
            QVERIFY(c.session.silences());
            const qint64 expiresAt = c.session.store()->fleetNowMs() + 3600'000;
            const FleetAction drain = FleetAction::drainRegion(
                QStringLiteral("us-west"), QStringLiteral("upstream <b>loss</b>"), expiresAt);
            const qint64 before = QDateTime::currentMSecsSinceEpoch();
            const int handle = c.session.actions()->perform(drain);
            QString why;
            QVERIFY2(c.session.silences()->silenceWith(handle, drain, &why), qPrintable(why));
            QTRY_COMPARE_WITH_TIMEOUT(c.state(), MitigationSilences::State::Active, 15000);
            operation = c.session.actions()->find(handle)->operationId;
            QVERIFY(!operation.isEmpty());
            silenceId = c.silence()->id;
            QCOMPARE(c.silence()->operation, operation);

            // Alertmanager holds exactly one, as asked.
            QCOMPARE(silencesWithRegion(am.silences(), QStringLiteral("us-west")), 1);
            const QJsonObject held = am.silence(silenceId);
            QCOMPARE(held[QLatin1String("createdBy")].toString(), QStringLiteral("demo-operator"));
            const QString comment = held[QLatin1String("comment")].toString();
            QVERIFY2(comment.contains(operation) && comment.contains(QLatin1String("upstream <b>loss</b>"))
                    && comment.contains(QLatin1String("drain region us-west")),
                qPrintable(comment));
            const qint64 endsAt = *parseIsoUtc(held[QLatin1String("endsAt")].toString());
            const qint64 expected = before + 3600'000 + MitigationSilences::kMarginMs;
            QVERIFY2(std::abs(endsAt - expected) < 60'000, qPrintable(held[QLatin1String("endsAt")].toString()));
            QCOMPARE(held[QLatin1String("status")][QLatin1String("state")].toString(), QStringLiteral("active"));

            // In the local audit log, with its id and operation.
            const auto journal = c.session.localStore()->journal();
            QVERIFY(journal.ok());
            bool recorded = false;
            for (const LocalStore::JournalEntry &e : *journal)
                recorded = recorded
                    || (e.kind == QLatin1String("silence") && e.target == QLatin1String("us-west")
                        && e.outcome.startsWith(QStringLiteral("active %1 for %2").arg(silenceId, operation)));
            QVERIFY(recorded);
        }

        // A restarted console follows it again, from the journal.
        Console c(sim, store, am.url());
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(c.state(), MitigationSilences::State::Active, 15000);
        QCOMPARE(c.silence()->id, silenceId);
        QCOMPARE(c.silence()->operation, operation);

        // Someone edits it in Alertmanager (a matcher added): Alertmanager expires the old id and makes a new one
        // with the same comment. The console follows it by the key in the comment.
        QJsonObject edited = am.silence(silenceId);
        QJsonArray matchers = edited[QLatin1String("matchers")].toArray();
        matchers.append(QJsonObject { { QStringLiteral("name"), QStringLiteral("severity") },
            { QStringLiteral("value"), QStringLiteral(".+") }, { QStringLiteral("isRegex"), true },
            { QStringLiteral("isEqual"), true } });
        edited.insert(QStringLiteral("matchers"), matchers);
        edited.remove(QStringLiteral("status"));
        edited.remove(QStringLiteral("updatedAt"));
        const QJsonObject answer = QJsonDocument::fromJson(
            am.request("POST", QStringLiteral("/api/v2/silences"), QJsonDocument(edited).toJson()))
                                       .object();
        const QString newId = answer[QLatin1String("silenceID")].toString();
        QVERIFY2(!newId.isEmpty() && newId != silenceId, qPrintable(newId));
        c.session.silences()->refresh();
        QTRY_COMPARE_WITH_TIMEOUT(c.silence()->id, newId, 10000);
        QCOMPARE(c.state(), MitigationSilences::State::Active);
        QVERIFY2(c.text().contains(QLatin1String("edited in Alertmanager")) || c.silence()->message.contains(silenceId),
            qPrintable(c.silence()->message));

        // Resuming the region expires it (the new id), in Alertmanager and in the audit log.
        sim.advance(1800); // the drain completes
        const int resume = c.session.actions()->perform(
            FleetAction::resumeRegion(QStringLiteral("us-west"), QStringLiteral("loss over")));
        QTRY_COMPARE_WITH_TIMEOUT(c.phase(resume), ActionController::Phase::Done, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(c.state(), MitigationSilences::State::Expired, 15000);
        QVERIFY2(c.silence()->message.contains(QLatin1String("region resumed")), qPrintable(c.silence()->message));
        QCOMPARE(
            am.silence(newId)[QLatin1String("status")][QLatin1String("state")].toString(), QStringLiteral("expired"));

        // The incident timeline and the postmortem draft tell it: made with the drain, expired on resume.
        const auto entries = c.session.timeline()->entries({});
        QStringList silences;
        for (const IncidentTimeline::Entry &e : entries)
            if (e.kind == IncidentTimeline::Entry::Kind::Silence)
                silences << e.text;
        QCOMPARE(silences.size(), 2);
        QVERIFY2(silences.at(0).contains(QLatin1String("demo-operator silenced the alerts of us-west until"))
                && silences.at(0).contains(operation),
            qPrintable(silences.at(0)));
        QVERIFY2(silences.at(1).contains(QLatin1String("expired (region resumed")), qPrintable(silences.at(1)));
        QVERIFY(
            IncidentTimeline::postmortemDraft(entries, {}).contains(QLatin1String("silenced the alerts of us-west")));
    }

    // Alerts enter the timeline when a poll first sees them (at their own start) and leave it resolved when a poll no
    // longer has them; an alert seen again is not news.
    void alertsEnterTheTimelineFiringThenResolved()
    {
        FleetSession session;
        IncidentTimeline *timeline = session.timeline();
        AmAlert loss;
        loss.fingerprint = QStringLiteral("a1");
        loss.labels = { { QStringLiteral("alertname"), QStringLiteral("FleetRegionPacketLoss") },
            { QStringLiteral("region"), QStringLiteral("eu-west") } };
        loss.annotations = { { QStringLiteral("summary"), QStringLiteral("<b>7 %</b> loss") } };
        loss.state = QStringLiteral("active");
        loss.startsAt = 1'700'000'000'000;
        timeline->recordAlerts({ loss }, 1'700'000'060'000);
        timeline->recordAlerts({ loss }, 1'700'000'120'000);
        QCOMPARE(timeline->alertEntries().size(), 1);
        QCOMPARE(timeline->alertEntries().at(0).atMs, loss.startsAt);
        QCOMPARE(timeline->alertEntries().at(0).text,
            QStringLiteral("Alert FleetRegionPacketLoss firing in eu-west: <b>7 %</b> loss"));
        timeline->recordAlerts({}, 1'700'000'180'000);
        QCOMPARE(timeline->alertEntries().size(), 2);
        QCOMPARE(timeline->alertEntries().at(1).atMs, 1'700'000'180'000);
        QCOMPARE(timeline->alertEntries().at(1).detail, QStringLiteral("resolved"));
        // Markup in an alert's words stays text in the Markdown export.
        const QString md = IncidentTimeline::toMarkdown(timeline->entries({}), QStringLiteral("t"));
        QVERIFY2(md.contains(QLatin1String("\\<b\\>7 %\\</b\\> loss")), qPrintable(md));
    }

    // A drain the fleet refuses never silences anything.
    void aRefusedActionSilencesNothing()
    {
        RealAlertmanager am;
        if (!am.installed())
            QSKIP("prometheus-alertmanager is not installed (scripts/install-deps installs Debian's)");
        QTRY_VERIFY2_WITH_TIMEOUT(am.ready(), qPrintable(am.output()), 20000);
        QTemporaryDir dir;
        SimHarness sim;
        Console c(sim, dir.filePath(QStringLiteral("console.sqlite")), am.url());
        QTRY_VERIFY_WITH_TIMEOUT(c.ready(), 15000);
        const FleetAction drain = FleetAction::drainRegion(QStringLiteral("mars-north"), QStringLiteral("no such"));
        const int handle = c.session.actions()->perform(drain);
        QVERIFY(c.session.silences()->silenceWith(handle, drain));
        QTRY_COMPARE_WITH_TIMEOUT(c.state(), MitigationSilences::State::NotCreated, 15000);
        QVERIFY2(c.silence()->message.contains(QLatin1String("did not go ahead")), qPrintable(c.silence()->message));
        QCOMPARE(am.silences().size(), 0);
        // A drain of one worker is no mitigation that carries a silence.
        QString why;
        QVERIFY(!c.session.silences()->silenceWith(
            0, FleetAction::drainWorker(QStringLiteral("w-eu-west-0001"), QStringLiteral("x")), &why));
        QVERIFY(why.contains(QLatin1String("only a drain of a region")));
    }
};

QTEST_GUILESS_MAIN(TestSilences)
#include "tst_silences.moc"
