#include "eventlog.h"

#include <QTest>

using fleet::sim::EventLog;

class TestEventLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void idsIncrease();
    void resumeWithinBuffer();
    void evictionForcesResync();
    void unknownFutureIdForcesResync();
    void lostBufferForcesResyncForOlderIds();
    void idsFromAnotherLifeForceResync();
};

void TestEventLog::idsIncrease()
{
    EventLog log(16);
    QCOMPARE(log.lastId(), 0);
    QCOMPARE(log.firstRetainedId(), 1);
    QCOMPARE(log.append("worker", "{}"), 1);
    QCOMPARE(log.append("health", "{}"), 2);
    QCOMPARE(log.lastId(), 2);
    QCOMPARE(log.size(), 2);
}

void TestEventLog::resumeWithinBuffer()
{
    EventLog log(16);
    for (int i = 0; i < 10; ++i)
        log.append("worker", QByteArray::number(i));
    QVERIFY(log.canResumeAfter(0));
    QVERIFY(log.canResumeAfter(10));
    auto it = log.after(7);
    QCOMPARE(it->id, 8);
    QCOMPARE(it->data, QByteArray("7"));
    QCOMPARE(std::distance(it, log.end()), 3);
    QCOMPARE(std::distance(log.after(10), log.end()), 0);
}

void TestEventLog::evictionForcesResync()
{
    EventLog log(16);
    for (int i = 0; i < 40; ++i)
        log.append("worker", {});
    QCOMPARE(log.size(), 16);
    QCOMPARE(log.firstRetainedId(), 25);
    QVERIFY(log.canResumeAfter(24)); // the next event it needs, 25, is still held
    QVERIFY(!log.canResumeAfter(23)); // event 24 is gone
    QVERIFY(!log.canResumeAfter(0));
}

void TestEventLog::unknownFutureIdForcesResync()
{
    EventLog log(16);
    log.append("worker", {});
    QVERIFY(!log.canResumeAfter(2));
    QVERIFY(!log.canResumeAfter(-1));
}

void TestEventLog::lostBufferForcesResyncForOlderIds()
{
    EventLog log(16);
    for (int i = 0; i < 5; ++i)
        log.append("worker", {});
    log.loseAll();
    QCOMPARE(log.size(), 0);
    QVERIFY(log.canResumeAfter(5)); // saw everything before the loss
    QVERIFY(!log.canResumeAfter(3)); // missed events 4 and 5, which are gone
    QCOMPARE(log.append("worker", {}), 6);
    QVERIFY(log.canResumeAfter(5));
    QVERIFY(!log.canResumeAfter(4));
}

void TestEventLog::idsFromAnotherLifeForceResync()
{
    EventLog earlier(16, 1000);
    for (int i = 0; i < 10; ++i)
        earlier.append("worker", {});
    QCOMPARE(earlier.lastId(), 1010);
    // The server restarts: a new life with a larger base, which soon has more events than the old one had.
    EventLog later(16, 5000);
    for (int i = 0; i < 40; ++i)
        later.append("worker", {});
    QVERIFY(!later.canResumeAfter(earlier.lastId()));
    QVERIFY(!later.canResumeAfter(0));
    QVERIFY(later.canResumeAfter(later.lastId()));
}

QTEST_APPLESS_MAIN(TestEventLog)
#include "tst_eventlog.moc"
