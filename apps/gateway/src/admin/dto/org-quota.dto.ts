import { ApiProperty } from '@nestjs/swagger';
import { OrgQuotaParams, type OrgQuotaView } from '@lib/contracts';

export class OrgQuotaDto extends OrgQuotaParams {
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 10_737_418_240,
    description: 'Most bytes the org may store, every kind of file together; null: unlimited',
  })
  override maxBytes!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 100_000,
    description:
      'Most files the org may store (Objects API objects count from their create); null: unlimited',
  })
  override maxFiles!: number | null;
}

export class OrgQuotaResponseDto extends OrgQuotaDto {
  @ApiProperty({ description: 'Bytes that count against the quota now', example: 52_428_800 })
  usedBytes!: number;

  @ApiProperty({ description: 'Files that count against the quota now', example: 1_240 })
  usedFiles!: number;

  static from(view: OrgQuotaView): OrgQuotaResponseDto {
    return { ...view };
  }
}
