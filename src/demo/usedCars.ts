import { mulberry32 } from '../domain/split';

/**
 * A realistic used-vehicle pricing dataset (the playbook's example): make, model, year, mileage, fuel,
 * region → price. Prices follow depreciation, mileage, fuel and regional effects with noise; a few
 * cells are missing, as in real exports. Seeded, so the same call gives the same bytes.
 */
const CATALOGUE: Record<string, { models: string[]; base: number }> = {
  Toyota: { models: ['Corolla', 'Yaris', 'RAV4', 'Prius'], base: 24000 },
  Ford: { models: ['Fiesta', 'Focus', 'Kuga', 'Puma'], base: 21000 },
  Volkswagen: { models: ['Polo', 'Golf', 'Tiguan', 'Passat'], base: 25000 },
  BMW: { models: ['1 Series', '3 Series', 'X3', '5 Series'], base: 38000 },
  Tesla: { models: ['Model 3', 'Model Y'], base: 45000 },
  Dacia: { models: ['Sandero', 'Duster'], base: 14000 },
};
const MODEL_FACTOR = [0.85, 1, 1.2, 1.35];
const FUELS = ['petrol', 'diesel', 'hybrid', 'electric'] as const;
const FUEL_PREMIUM: Record<(typeof FUELS)[number], number> = { petrol: 0, diesel: 800, hybrid: 2500, electric: 4000 };
const REGIONS: Record<string, number> = { north: 0.95, south: 1.05, east: 0.97, west: 1.02, london: 1.12 };

export const USED_CAR_FEATURES = ['make', 'model', 'year', 'mileage_km', 'fuel', 'region'];
export const USED_CAR_TARGET = 'price';

export function usedCarsCsv(rows: number, seed = 7, currentYear = 2026): string {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const lines = ['make,model,year,mileage_km,fuel,region,price'];
  const makes = Object.keys(CATALOGUE);
  for (let i = 0; i < rows; i++) {
    const make = pick(makes);
    const { models, base } = CATALOGUE[make];
    const modelIndex = Math.floor(rand() * models.length);
    const fuel = make === 'Tesla' ? 'electric' : pick(FUELS.slice(0, 3));
    const year = currentYear - Math.min(20, Math.floor(rand() * rand() * 21));
    const age = currentYear - year;
    const mileage = Math.max(0, Math.round(age * (9000 + 5000 * normal()) + 2000 * rand()));
    const region = pick(Object.keys(REGIONS));
    const value = base * MODEL_FACTOR[modelIndex] * Math.pow(0.87, age) - 0.04 * mileage + FUEL_PREMIUM[fuel];
    const price = Math.max(500, Math.round((value * REGIONS[region] + 900 * normal()) / 10) * 10);
    // Real exports have holes: ~2% unknown mileage, ~1% unknown fuel.
    const mileageCell = rand() < 0.02 ? '' : String(mileage);
    const fuelCell = rand() < 0.01 ? '' : fuel;
    const modelCell = models[modelIndex].includes(' ') ? `"${models[modelIndex]}"` : models[modelIndex];
    lines.push([make, modelCell, year, mileageCell, fuelCell, region, price].join(','));
  }
  return lines.join('\n') + '\n';
}
