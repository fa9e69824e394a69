// The postmortem draft (issue #21, item 5) on the seed incident's story: a draft a person would publish after light
// editing. Before, it was 20,175 characters with 191 timeline lines, named every region that blipped as affected,
// and put the recovery at the last healthy verdict of any region (20:05) instead of EU Central's (17:08).

#include "incidenttimeline.h"

#include <QDateTime>
#include <QTest>

using namespace fleet;
using Entry = IncidentTimeline::Entry;

namespace {

qint64 at(const char *hhmm)
{
    return QDateTime(QDate(2025, 11, 12), QTime::fromString(QLatin1String(hhmm), QStringLiteral("HH:mm")), Qt::UTC)
        .toMSecsSinceEpoch();
}

Entry verdict(const char *when, const QString &region, const QString &to)
{
    Entry e;
    e.atMs = at(when);
    e.kind = Entry::Kind::Verdict;
    e.region = region;
    e.detail = to;
    e.text = QStringLiteral("%1 became %2 at %3 UTC").arg(region, to, QLatin1String(when));
    return e;
}

Entry other(const char *when, Entry::Kind kind, const QString &text, const QString &detail = {})
{
    Entry e;
    e.atMs = at(when);
    e.kind = kind;
    e.text = text;
    e.detail = detail;
    return e;
}

// The seed day as the console saw it: EU Central in trouble 09:01-17:08 (flapping between degraded and down), US
// East and US West blipping for a minute or two, six provisions, four public updates.
QList<Entry> seedDay()
{
    QList<Entry> e;
    e << verdict("08:47", QStringLiteral("US West"), QStringLiteral("degraded"))
      << verdict("08:48", QStringLiteral("US West"), QStringLiteral("healthy"))
      << verdict("09:01", QStringLiteral("EU Central"), QStringLiteral("degraded"))
      << other("09:13", Entry::Kind::StatusUpdate, QStringLiteral("Investigating"), QStringLiteral("investigating"));
    for (int i = 0; i < 6; ++i)
        e << other("09:20", Entry::Kind::Operation,
            QStringLiteral("olu provisioned 8 amd64 workers in us-east (op-00000%1)").arg(i + 1));
    for (const char *t : { "09:50", "10:30", "11:10", "12:40", "13:20", "14:00" }) {
        e << verdict(t, QStringLiteral("EU Central"), QStringLiteral("down"));
        e << verdict(t, QStringLiteral("EU Central"), QStringLiteral("degraded"));
    }
    for (const char *t : { "10:09", "11:53", "18:20", "19:05" }) {
        e << verdict(t, QStringLiteral("US East"), QStringLiteral("degraded"));
        e << verdict(t, QStringLiteral("US East"), QStringLiteral("healthy"));
    }
    e << other("15:01", Entry::Kind::StatusUpdate, QStringLiteral("Identified"), QStringLiteral("identified"))
      << verdict("17:08", QStringLiteral("EU Central"), QStringLiteral("healthy"))
      << other("17:14", Entry::Kind::StatusUpdate, QStringLiteral("Monitoring"), QStringLiteral("monitoring"))
      << other("19:58", Entry::Kind::StatusUpdate, QStringLiteral("Resolved"), QStringLiteral("resolved"))
      << verdict("20:05", QStringLiteral("US West"), QStringLiteral("degraded"))
      << verdict("20:06", QStringLiteral("US West"), QStringLiteral("healthy"));
    std::stable_sort(e.begin(), e.end(), [](const Entry &a, const Entry &b) { return a.atMs < b.atMs; });
    return e;
}

} // namespace

class TestPostmortem : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aDraftAPersonWouldPublish()
    {
        statuspage::Incident incident;
        incident.name = QStringLiteral("Builder partially degraded service");
        incident.createdAt = at("09:13");
        incident.resolvedAt = at("19:58");
        statuspage::Component builder;
        builder.name = QStringLiteral("Application Builder");
        incident.components << builder;
        const QString draft = IncidentTimeline::postmortemDraft(seedDay(), incident);
        qInfo("%lld characters", qlonglong(draft.size()));
        if (qEnvironmentVariableIsSet("FLEET_PRINT_DRAFT"))
            qInfo().noquote() << draft;
        // Affected: the region in trouble for hours, not the ones that blipped.
        QVERIFY2(draft.contains(QLatin1String("increased build failures in EU Central.")), qPrintable(draft));
        QVERIFY2(
            !draft.contains(QLatin1String("US West")) && !draft.contains(QLatin1String("US East")), qPrintable(draft));
        // Recovery: when EU Central was healthy again and stayed so, not the last verdict of any region.
        QVERIFY2(draft.contains(QLatin1String("returned to normal as of 17:08 UTC")), qPrintable(draft));
        QVERIFY2(draft.contains(QLatin1String("- Recovery (17:08 UTC): EU Central healthy again")), qPrintable(draft));
        QVERIFY2(draft.contains(QLatin1String("closed the incident at 19:58 UTC")), qPrintable(draft));
        // The moments that matter: it began, it went down, it recovered; not every flap.
        QVERIFY2(draft.contains(QLatin1String("- 09:01 UTC: EU Central became degraded")), qPrintable(draft));
        QVERIFY2(draft.contains(QLatin1String("- 09:50 UTC: EU Central became down")), qPrintable(draft));
        QVERIFY2(!draft.contains(QLatin1String("10:30 UTC: EU Central")), qPrintable(draft));
        int lines = 0;
        for (const QString &line : draft.split(u'\n'))
            lines += line.startsWith(QLatin1String("- ")) ? 1 : 0;
        QVERIFY2(lines <= 25, qPrintable(QStringLiteral("%1 list lines:\n%2").arg(lines).arg(draft)));
        QVERIFY2(draft.size() < 3000, qPrintable(QString::number(draft.size())));
        for (const char *section :
            { "## Summary", "## What happened", "## Our response and mitigation", "## Resolution" })
            QVERIFY(draft.contains(QLatin1String(section)));
    }

    void stillInTroubleHasNoRecovery()
    {
        QList<Entry> entries { verdict("09:01", QStringLiteral("EU Central"), QStringLiteral("degraded")),
            verdict("09:30", QStringLiteral("EU Central"), QStringLiteral("down")) };
        const QString draft = IncidentTimeline::postmortemDraft(entries, {});
        QVERIFY2(!draft.contains(QLatin1String("returned to normal")), qPrintable(draft));
        QVERIFY2(draft.contains(QLatin1String("(not resolved yet)")), qPrintable(draft));
    }
};

QTEST_APPLESS_MAIN(TestPostmortem)
#include "tst_postmortem.moc"
