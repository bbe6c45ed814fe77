import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PageLimit } from './objects';

class Page {
  @PageLimit(50)
  limit?: number;
}

const check = (query: Record<string, string>) => {
  const page = plainToInstance(Page, query);
  return {
    limit: page.limit,
    problems: validateSync(page).flatMap((e) => Object.values(e.constraints ?? {})),
  };
};

describe('PageLimit', () => {
  it('should accept an absent or empty limit and integers from 1 to the maximum', () => {
    expect(check({})).toEqual({ limit: undefined, problems: [] });
    expect(check({ limit: '' })).toEqual({ limit: undefined, problems: [] });
    expect(check({ limit: '1' })).toEqual({ limit: 1, problems: [] });
    expect(check({ limit: '50' })).toEqual({ limit: 50, problems: [] });
  });

  it.each([
    ['0', 'limit must be between 1 and 50'],
    ['51', 'limit must be between 1 and 50'],
    ['-3', 'limit must be between 1 and 50'],
    ['2.5', 'limit must be an integer'],
    ['ten', 'limit must be an integer'],
  ])('should refuse limit=%s naming the rule', (limit, problem) => {
    expect(check({ limit }).problems).toContain(problem);
  });
});
