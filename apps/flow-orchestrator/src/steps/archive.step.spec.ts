import { tarHeader } from './archive.step';
import { StepFailedError } from './step';

describe('tarHeader', () => {
  it('should write a ustar header with a valid checksum', () => {
    const sut = tarHeader('edge', 'file.txt', 1234, 1_700_000_000);
    expect(sut).toHaveLength(512);
    expect(sut.subarray(0, 8).toString()).toBe('file.txt');
    expect(sut.subarray(257, 262).toString()).toBe('ustar');
    expect(sut.subarray(345, 349).toString()).toBe('edge');
    expect(parseInt(sut.subarray(124, 135).toString(), 8)).toBe(1234);
    const stored = parseInt(sut.subarray(148, 154).toString(), 8);
    const copy = Buffer.from(sut);
    copy.fill(' ', 148, 156);
    expect(stored).toBe(copy.reduce((sum, b) => sum + b, 0));
  });

  it('should refuse a name over 100 bytes when building an entry', () => {
    expect(() => tarHeader('e', 'n'.repeat(101), 1, 0)).toThrow(StepFailedError);
  });
});
