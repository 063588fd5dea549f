import { runsOf, tombstoneSignedText } from './tombstone';

describe('tombstones', () => {
  it('groups purged positions into runs of consecutive positions', () => {
    const seqs = [3, 4, 5, 9, 11, 12].map((chainSeq) => ({ chainSeq }));
    expect(runsOf(seqs).map((run) => run.map((r) => r.chainSeq))).toEqual([
      [3, 4, 5],
      [9],
      [11, 12],
    ]);
    expect(runsOf([])).toEqual([]);
  });

  it('signs the corp and the runs, whatever the order of each run’s fields', () => {
    const a = tombstoneSignedText('ww1', [{ from: 1, to: 2, prevHash: 'aa', lastHash: 'bb' }]);
    const b = tombstoneSignedText('ww1', [{ lastHash: 'bb', prevHash: 'aa', to: 2, from: 1 }]);
    expect(a.equals(b)).toBe(true);
    expect(a.toString()).toBe(
      'qiwei-archive-tombstone/v1\nww1\n[{"from":1,"lastHash":"bb","prevHash":"aa","to":2}]',
    );
    expect(
      tombstoneSignedText('ww2', [{ from: 1, to: 2, prevHash: 'aa', lastHash: 'bb' }]).equals(a),
    ).toBe(false);
  });
});
