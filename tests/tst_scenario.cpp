#include "scenario.h"

#include <QTest>

using namespace fleet::sim;

class TestScenario : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void builtInsLoad_data();
    void builtInsLoad();
    void incidentTimeline();
    void rejects_data();
    void rejects();
    void unknownNameListsBuiltIns();
};

void TestScenario::builtInsLoad_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("calm") << QStringLiteral("calm");
    QTest::newRow("upstream-packet-loss") << QStringLiteral("upstream-packet-loss");
}

void TestScenario::builtInsLoad()
{
    QFETCH(QString, name);
    QString error;
    const auto s = Scenario::load(name);
    QVERIFY2(s, qPrintable(s.error()));
    QCOMPARE(s->name, name);
    QCOMPARE(s->regions.size(), std::size_t(6));
    QVERIFY(s->totalWorkers() > 100);
    QVERIFY(Scenario::builtInNames().contains(name));
}

void TestScenario::incidentTimeline()
{
    QString error;
    const auto s = Scenario::load(QStringLiteral("upstream-packet-loss"));
    QVERIFY(s);
    QVERIFY(!s->timeline.empty());
    double peak = 0;
    for (const auto &e : s->timeline) {
        QCOMPARE(e.region, QStringLiteral("eu-central")); // only one region is hit
        QVERIFY(e.at > s->start);
        peak = std::max(peak, e.packetLoss.value_or(0));
    }
    QVERIFY(peak >= 0.3); // severe packet loss
    QVERIFY(s->timeline.back().packetLoss.value_or(1) < 0.01); // and it recovers
    for (std::size_t i = 1; i < s->timeline.size(); ++i)
        QVERIFY(s->timeline[i - 1].at <= s->timeline[i].at);
}

void TestScenario::rejects_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("mentions");
    const QByteArray region = R"({"id":"r1","workers":{"amd64":1}})";
    QTest::newRow("not json") << QByteArray("{") << QStringLiteral("not a JSON object");
    QTest::newRow("no name") << QByteArray(R"({"start":"2025-11-12T08:00:00Z","regions":[)" + region + "]}")
                             << QStringLiteral("scenario.name");
    QTest::newRow("bad start") << QByteArray(R"({"name":"x","start":"8am","regions":[)" + region + "]}")
                               << QStringLiteral("scenario.start");
    QTest::newRow("no regions") << QByteArray(R"({"name":"x","start":"2025-11-12T08:00:00Z","regions":[]})")
                                << QStringLiteral("scenario.regions");
    QTest::newRow("loss above 1") << QByteArray(
        R"({"name":"x","start":"2025-11-12T08:00:00Z","regions":[{"id":"r1","packet_loss":2}]})")
                                  << QStringLiteral("regions[0].packet_loss");
    QTest::newRow("duplicate region") << QByteArray(R"({"name":"x","start":"2025-11-12T08:00:00Z","regions":[)" + region
        + "," + region + "]}") << QStringLiteral("used twice");
    QTest::newRow("timeline unknown region") << QByteArray(R"({"name":"x","start":"2025-11-12T08:00:00Z","regions":[)"
        + region + R"(],"timeline":[{"at":"09:00","region":"nope","packet_loss":0.1}]})")
                                             << QStringLiteral("timeline[0].region");
    QTest::newRow("timeline bad time") << QByteArray(R"({"name":"x","start":"2025-11-12T08:00:00Z","regions":[)"
        + region + R"(],"timeline":[{"at":"25:00","region":"r1"}]})")
                                       << QStringLiteral("timeline[0].at");
}

void TestScenario::rejects()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, mentions);
    QString error;
    const auto s = Scenario::fromJson(json, QStringLiteral("test.json"));
    QVERIFY(!s);
    QVERIFY2(s.error().contains(mentions), qPrintable(s.error()));
}

void TestScenario::unknownNameListsBuiltIns()
{
    const auto s = Scenario::load(QStringLiteral("no-such-scenario"));
    QVERIFY(!s);
    QVERIFY2(s.error().contains(QLatin1String("calm")) && s.error().contains(QLatin1String("upstream-packet-loss")),
        qPrintable(s.error()));
}

QTEST_APPLESS_MAIN(TestScenario)
#include "tst_scenario.moc"
