import { describe, expect, it } from 'vitest';
import { parsePriceMap, PriceMapError } from '../src/plans/price-map';

const fails = (text: string) => {
  try {
    parsePriceMap(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PriceMapError);
    return (err as Error).message;
  }
  throw new Error(`parsed: ${text}`);
};

describe('STRIPE_PRODUCT_PRICE_MAP', () => {
  it('reads JSON and code=price pairs alike, in order, trimming spaces', () => {
    const want = [
      { code: 'solo', priceId: 'price_1Solo' },
      { code: 'team', priceId: 'price_1Team' },
    ];
    expect(parsePriceMap('{"solo":"price_1Solo","team":"price_1Team"}')).toEqual(want);
    expect(parsePriceMap(' { "solo" : "price_1Solo" , "team": " price_1Team " } ')).toEqual(want);
    expect(parsePriceMap('solo=price_1Solo,team=price_1Team')).toEqual(want);
    expect(parsePriceMap(' solo = price_1Solo , team=price_1Team ')).toEqual(want);
    expect(parsePriceMap('')).toEqual([]);
    expect(parsePriceMap('   ')).toEqual([]);
  });

  it('names the bad entry: empty code, empty or non-price_ id, duplicate code, unparseable text', () => {
    expect(fails('=price_1Solo')).toMatch(/empty plan code/);
    expect(fails('{"":"price_1Solo"}')).toMatch(/empty plan code/);
    expect(fails('solo=')).toMatch(/"solo" has an empty price id/);
    expect(fails('{"solo":""}')).toMatch(/"solo" has an empty price id/);
    expect(fails('{"solo":42}')).toMatch(/"solo" has an empty price id/);
    expect(fails('solo=prod_1Solo')).toMatch(/"prod_1Solo" is not a Stripe price id/);
    expect(fails('solo=price_1Solo,team=sk_test_1234')).toMatch(/plan "team".*not a Stripe price id/);
    expect(fails('solo=price_1A,solo=price_1B')).toMatch(/"solo" appears twice/);
    expect(fails('{"solo":"price_1A","solo":"price_1B"}')).toMatch(/"solo" appears twice/);
    expect(fails('solo price_1A')).toMatch(/is not code=price_/);
    expect(fails('solo=price_1A,,team=price_1B')).toMatch(/is not code=price_/);
    expect(fails('{"solo":"price_1A"')).toMatch(/not valid JSON/);
    expect(fails('["price_1A"]')).toMatch(/JSON object/);
    expect(fails('Solo=price_1A')).toMatch(/lowercase/);
    expect(fails(`${'x'.repeat(41)}=price_1A`)).toMatch(/lowercase/);
  });

  it('quotes at most 80 characters of a bad entry', () => {
    const message = fails(`solo=${'y'.repeat(5000)}`);
    expect(message.length).toBeLessThan(200);
  });
});
